import KVPaging
import RadixTree
import ServingTypes
import Testing
import TestSupport

/// Thousands of random request lifecycles against a small pool, checking after every step
/// that page accounting holds, matched pages hold the right (simulated) KV content, and the
/// router's view rebuilt from events equals both the cache and its snapshot listing.
@Suite struct RadixPrefixCachePropertyTests {
    struct Holder {
        var tokens: [Int32]
        var namespace: UInt64
        var handle: PrefixCacheHandle
        var table: [Int32]
        var sharedPageCount: Int
    }

    /// Where a page sits: its namespace and the page above it (`nil` at the root).
    struct PagePlace: Hashable {
        var namespace: UInt64
        var parentHash: UInt64?
    }

    /// The router's view of the cache, rebuilt from events or from a snapshot listing alone.
    struct RouterView: Equatable {
        var pages: [UInt64: PagePlace] = [:]

        /// A view built by replaying one `stored` event per listed chain into an empty view.
        init(chains: [CachedChain]) {
            applyEvents(chains.map { .stored(namespace: $0.namespace, parentHash: $0.parentHash, pageHashes: $0.pageHashes) })
        }

        init() {}

        mutating func applyEvents(_ events: [CacheEvent]) {
            for event in events {
                switch event {
                case .stored(let namespace, let parent, let hashes):
                    if let parent { #expect(pages[parent]?.namespace == namespace, "stored under an unknown parent") }
                    var above = parent
                    for hash in hashes {
                        #expect(pages.updateValue(PagePlace(namespace: namespace, parentHash: above), forKey: hash) == nil)
                        above = hash
                    }
                case .removed(let hashes):
                    for hash in hashes { #expect(pages.removeValue(forKey: hash) != nil) }
                    let parents = Set(pages.values.compactMap(\.parentHash))
                    #expect(hashes.allSatisfy { !parents.contains($0) }, "removed a page that still has children")
                case .cleared:
                    pages = [:]
                }
            }
        }
    }

    @Test(arguments: [(1, UInt64(1)), (2, 2), (4, 3), (16, 4)])
    func randomRequestLifecyclesKeepInvariants(pageSize: Int, seed: UInt64) throws {
        // Simulated KV content: page -> namespace + the token prefix its last slot completes.
        var content: [Int32: [Int32]] = [:]
        var router = RouterView()
        var hitCount = 0
        var duplicateCount = 0
        var generator = SeededRandom(seed: seed)
        var cache = RadixPrefixCache(pageCount: 48, pageSize: pageSize, hashSeed: seed)
        var holders: [Holder] = []
        let prefixes: [[Int32]] = (0..<4).map { base in (0..<pageSize * 3).map { Int32(base * 100 + $0 % 3) } }
        for _ in 0..<3000 {
            switch Int.random(in: 0..<12, using: &generator) {
            case 0...4:
                // Admit: match -> lock -> allocate (evicting if short) -> compute.
                var tokens = prefixes.randomElement(using: &generator)!
                tokens = Array(tokens.prefix(Int.random(in: 0...tokens.count, using: &generator)))
                tokens += (0..<Int.random(in: 1...pageSize * 3, using: &generator)).map { _ in
                    Int32.random(in: 0..<2, using: &generator)
                }
                let namespace = UInt64.random(in: 0..<2, using: &generator)
                let match = cache.match(tokens[...], namespace: namespace)
                #expect(match.cachedTokenCount < tokens.count)
                if match.cachedTokenCount > 0 { hitCount += 1 }
                for (index, page) in match.pages.enumerated() {
                    #expect(content[page] == [Int32(namespace)] + tokens[..<((index + 1) * pageSize)])
                }
                cache.lock(match.handle)
                let needed = (tokens.count + pageSize - 1) / pageSize - match.pages.count
                if !cache.pool.canAllocate(needed) {
                    cache.evict(pageCount: needed - cache.pool.freePageCount)
                }
                guard let own = cache.pool.allocate(needed) else {
                    cache.unlock(match.handle)
                    break
                }
                let table = match.pages + own
                for index in match.pages.count..<table.count where (index + 1) * pageSize <= tokens.count {
                    content[table[index]] = [Int32(namespace)] + tokens[..<((index + 1) * pageSize)]
                }
                holders.append(
                    Holder(
                        tokens: tokens, namespace: namespace, handle: match.handle, table: table,
                        sharedPageCount: match.pages.count))
            case 5...7:
                // Finish: insert whole pages, free the partial page, unlock.
                guard let index = holders.indices.randomElement(using: &generator) else { break }
                let holder = holders.remove(at: index)
                let whole = holder.tokens.count / pageSize
                let result = cache.insert(holder.tokens[...], pages: holder.table[..<whole], namespace: holder.namespace)
                #expect(result.duplicatePages.allSatisfy { !holder.table[..<holder.sharedPageCount].contains($0) })
                duplicateCount += result.duplicatePages.count
                cache.pool.free(holder.table[whole...])
                cache.unlock(holder.handle)
            case 8:
                // Abort: free private pages, unlock.
                guard let index = holders.indices.randomElement(using: &generator) else { break }
                let holder = holders.remove(at: index)
                cache.pool.free(holder.table[holder.sharedPageCount...])
                cache.unlock(holder.handle)
            case 9...10:
                let before = cache.evictablePageCount
                let freed = cache.evict(pageCount: Int.random(in: 1...8, using: &generator))
                #expect(freed <= before)
                #expect(cache.evictablePageCount == before - freed)
            default:
                let flushed = cache.flush()
                #expect(flushed == holders.allSatisfy { cache.lockCount(of: $0.handle) == 0 })
            }
            try cache.checkIntegrity()
            let privatePages = holders.reduce(0) { $0 + $1.table.count - $1.sharedPageCount }
            #expect(cache.pool.inUsePageCount == privatePages)
            // The listing already includes the pending events' effects, so it must equal the
            // view after replaying everything emitted so far, page by page and parent by parent.
            let snapshot = RouterView(chains: cache.cachedChains())
            router.applyEvents(cache.drainEvents())
            let cachedHashes = Set(cache.trees.values.flatMap { tree in tree.allNodes().flatMap { tree.value(of: $0)!.hashes } })
            #expect(cachedHashes == Set(router.pages.keys))
            #expect(snapshot == router)
        }
        #expect(hitCount > 100, "the workload must exercise prefix hits")
        #expect(duplicateCount > 10, "the workload must exercise duplicate pages")
        for holder in holders {
            cache.pool.free(holder.table[holder.sharedPageCount...])
            cache.unlock(holder.handle)
        }
        let flushed = cache.flush()
        #expect(flushed)
        #expect(cache.pool.freePageCount == cache.pool.pageCount)
    }
}
