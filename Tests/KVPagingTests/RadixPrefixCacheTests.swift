import KVPaging
import PageHashing
import ServingTypes
import Testing

@Suite struct RadixPrefixCacheTests {
    /// Allocates pages for `tokens`, "computes" them, inserts them and returns the insertion.
    @discardableResult
    static func cache(
        _ tokens: [Int32], in cache: inout RadixPrefixCache, namespace: UInt64 = 0
    ) throws -> PrefixInsertion {
        let pagesAllocation = cache.pool.allocate(tokens.count / cache.pageSize)
        let pages = try #require(pagesAllocation)
        return cache.insert(tokens[...], pages: pages[...], namespace: namespace)
    }

    // MARK: - Match

    @Test func matchNeverCoversTheWholePrompt() throws {
        var cache = RadixPrefixCache(pageCount: 8, pageSize: 2)
        try Self.cache([1, 2, 3, 4], in: &cache)
        let matched = cache.match([1, 2, 3, 4], namespace: 0).cachedTokenCount
        #expect(matched == 2)
        let matched2 = cache.match([1, 2, 3, 4, 5], namespace: 0).cachedTokenCount
        #expect(matched2 == 4)
        let matched3 = cache.match([1, 2, 3], namespace: 0).cachedTokenCount
        #expect(matched3 == 2)
        let matched4 = cache.match([1], namespace: 0).cachedTokenCount
        #expect(matched4 == 0)
        let matched5 = cache.match([], namespace: 0).cachedTokenCount
        #expect(matched5 == 0)
        #expect(cache.peekCachedTokenCount([1, 2, 3, 4], namespace: 0) == 2)
        try cache.checkIntegrity()
    }

    @Test func matchReturnsTheCachedPagesInOrder() throws {
        var cache = RadixPrefixCache(pageCount: 8, pageSize: 2)
        let pagesAllocation = cache.pool.allocate(3)
        let pages = try #require(pagesAllocation)
        cache.insert([1, 2, 3, 4, 5, 6], pages: pages[...], namespace: 0)
        let match = cache.match([1, 2, 3, 4, 5, 6, 7], namespace: 0)
        #expect(match.pages == pages)
        let partial = cache.match([1, 2, 3, 4, 9, 9, 9], namespace: 0)
        #expect(partial.pages == Array(pages[..<2]))
        #expect(cache.cachedPageCount == 3)
        try cache.checkIntegrity()
    }

    @Test func namespacesNeverShare() throws {
        var cache = RadixPrefixCache(pageCount: 8, pageSize: 1)
        try Self.cache([1, 2, 3], in: &cache, namespace: 1)
        let matched = cache.match([1, 2, 3, 4], namespace: 2).cachedTokenCount
        #expect(matched == 0)
        let matched2 = cache.match([1, 2, 3, 4], namespace: 1).cachedTokenCount
        #expect(matched2 == 3)
        let second = try Self.cache([1, 2, 3], in: &cache, namespace: 2)
        #expect(second.existingTokenCount == 0)
        #expect(second.duplicatePages.isEmpty)
        #expect(cache.cachedPageCount == 6)
        try cache.checkIntegrity()
    }

    // MARK: - Insert

    @Test func duplicatePagesAreFreedAndSharedPagesKept() throws {
        var cache = RadixPrefixCache(pageCount: 8, pageSize: 2)
        let firstAllocation = cache.pool.allocate(2)
        let first = try #require(firstAllocation)
        cache.insert([1, 2, 3, 4], pages: first[...], namespace: 0)
        // A request that reused page first[0] but computed its own copy of the second page.
        let ownAllocation = cache.pool.allocate(2)
        let own = try #require(ownAllocation)
        let table = [first[0], own[0], own[1]]
        let result = cache.insert([1, 2, 3, 4, 5, 6, 7], pages: table[...], namespace: 0)
        #expect(result.existingTokenCount == 4)
        #expect(result.duplicatePages == [own[0]])
        #expect(result.adoptedPageCount == 1)
        #expect(cache.pool.isFree(own[0]))
        #expect(cache.pool.isCached(own[1]))
        #expect(cache.cachedPageCount == 3)
        #expect(cache.pool.inUsePageCount == 0)
        try cache.checkIntegrity()
    }

    @Test func insertingAnExistingPrefixAdoptsNothing() throws {
        var cache = RadixPrefixCache(pageCount: 4, pageSize: 1)
        try Self.cache([1, 2], in: &cache)
        let again = try Self.cache([1, 2], in: &cache)
        #expect(again.adoptedPageCount == 0)
        #expect(again.duplicatePages.count == 2)
        #expect(cache.pool.freePageCount == 2)
        try cache.checkIntegrity()
    }

    // MARK: - Locks and eviction

    @Test func lockedPrefixesAreNotEvictedOrFlushed() throws {
        var cache = RadixPrefixCache(pageCount: 8, pageSize: 1)
        try Self.cache([1, 2, 3], in: &cache)
        try Self.cache([4, 5], in: &cache)
        let match = cache.match([1, 2, 3, 9], namespace: 0)
        cache.lock(match.handle)
        #expect(cache.evictablePageCount == 2)
        let freed = cache.evict(pageCount: 10)
        #expect(freed == 2)
        let refused = cache.flush()
        #expect(!refused)
        let matched = cache.match([1, 2, 3, 9], namespace: 0).pages
        #expect(matched == match.pages)
        cache.unlock(match.handle)
        #expect(cache.evictablePageCount == 3)
        let flushed = cache.flush()
        #expect(flushed)
        #expect(cache.cachedPageCount == 0)
        #expect(cache.pool.freePageCount == 8)
        try cache.checkIntegrity()
    }

    @Test func evictionIsLeastRecentlyUsedAcrossNamespaces() throws {
        var cache = RadixPrefixCache(pageCount: 8, pageSize: 1)
        try Self.cache([1, 1], in: &cache, namespace: 0)
        try Self.cache([2, 2], in: &cache, namespace: 1)
        try Self.cache([3, 3], in: &cache, namespace: 0)
        _ = cache.match([1, 1, 0], namespace: 0)
        let freed = cache.evict(pageCount: 1)
        #expect(freed == 2)
        #expect(cache.peekCachedTokenCount([2, 2, 0], namespace: 1) == 0)
        let freed2 = cache.evict(pageCount: 1)
        #expect(freed2 == 2)
        #expect(cache.peekCachedTokenCount([3, 3, 0], namespace: 0) == 0)
        #expect(cache.peekCachedTokenCount([1, 1, 0], namespace: 0) == 2)
        try cache.checkIntegrity()
    }

    @Test func evictionKeepsTheCachedSetPrefixClosed() throws {
        var cache = RadixPrefixCache(pageCount: 16, pageSize: 1)
        try Self.cache([1, 2, 3, 4], in: &cache)
        try Self.cache([1, 2, 5, 6], in: &cache)
        _ = cache.match([1, 2, 5, 6, 0], namespace: 0)
        // Evicting the cold branch removes its leaf only; the shared stem stays.
        let freed = cache.evict(pageCount: 1)
        #expect(freed == 2)
        #expect(cache.peekCachedTokenCount([1, 2, 3, 4, 0], namespace: 0) == 2)
        #expect(cache.peekCachedTokenCount([1, 2, 5, 6, 0], namespace: 0) == 4)
        // Evicting more walks up only after the children are gone.
        let freed2 = cache.evict(pageCount: 3)
        #expect(freed2 == 4)
        #expect(cache.cachedPageCount == 0)
        try cache.checkIntegrity()
    }

    @Test func emptyHandlesLockNothing() throws {
        var cache = RadixPrefixCache(pageCount: 2, pageSize: 1)
        let match = cache.match([1, 2], namespace: 0)
        #expect(match.handle.isEmpty)
        cache.lock(match.handle)
        cache.unlock(match.handle)
        let flushed = cache.flush()
        #expect(flushed)
        try cache.checkIntegrity()
    }

    // MARK: - Events

    @Test func eventsCarryChainedHashesAndParents() throws {
        var cache = RadixPrefixCache(pageCount: 8, pageSize: 2, hashSeed: 5)
        let hasher = PageHasher(seed: 5, pageSize: 2)
        try Self.cache([1, 2, 3, 4], in: &cache, namespace: 9)
        try Self.cache([1, 2, 3, 4, 5, 6], in: &cache, namespace: 9)
        let chain = hasher.chain([1, 2, 3, 4, 5, 6], namespace: 9)
        let stored = cache.drainEvents()
        #expect(
            stored == [
                .stored(namespace: 9, parentHash: nil, pageHashes: Array(chain[..<2])),
                .stored(namespace: 9, parentHash: chain[1], pageHashes: [chain[2]]),
            ])
        let events = cache.drainEvents().isEmpty
        #expect(events)
        cache.evict(pageCount: 1)
        let events2 = cache.drainEvents()
        #expect(events2 == [.removed(pageHashes: [chain[2]])])
        // A split does not change hashes: evicting the rest after a split reports both halves.
        _ = cache.match([1, 2, 9, 9, 9], namespace: 9)
        cache.evict(pageCount: 2)
        let events3 = cache.drainEvents()
        #expect(events3 == [.removed(pageHashes: [chain[1]]), .removed(pageHashes: [chain[0]])])
        let flushed = cache.flush()
        #expect(flushed)
        let events4 = cache.drainEvents()
        #expect(events4 == [.cleared])
    }

    @Test func chainsListEveryEdgeAfterItsParent() throws {
        var cache = RadixPrefixCache(pageCount: 16, pageSize: 2, hashSeed: 5)
        let hasher = PageHasher(seed: 5, pageSize: 2)
        #expect(cache.cachedChains().isEmpty)
        try Self.cache([1, 2, 3, 4, 5, 6], in: &cache, namespace: 9)
        try Self.cache([1, 2, 3, 4, 7, 8, 9, 9], in: &cache, namespace: 9)
        try Self.cache([1, 2], in: &cache, namespace: 3)
        let long = hasher.chain([1, 2, 3, 4, 7, 8, 9, 9], namespace: 9)
        let short = hasher.chain([1, 2, 3, 4, 5, 6], namespace: 9)
        let chains = cache.cachedChains()
        #expect(chains.count == 4)
        #expect(chains[0] == CachedChain(namespace: 3, parentHash: nil, pageHashes: hasher.chain([1, 2], namespace: 3)))
        #expect(chains[1] == CachedChain(namespace: 9, parentHash: nil, pageHashes: Array(long[..<2])))
        #expect(Set(chains[2...]) == [
            CachedChain(namespace: 9, parentHash: long[1], pageHashes: [short[2]]),
            CachedChain(namespace: 9, parentHash: long[1], pageHashes: Array(long[2...])),
        ])
        // A split by a partial match changes edges, not pages: the listing covers the same hashes.
        _ = cache.match([1, 2, 3, 4, 7, 8, 0], namespace: 9)
        let split = cache.cachedChains()
        #expect(split.count == 5)
        #expect(Set(split.flatMap(\.pageHashes)) == Set(chains.flatMap(\.pageHashes)))
        let events = cache.drainEvents().count
        #expect(events == 3)
    }

    @Test func eventsCanBeSwitchedOff() throws {
        var cache = RadixPrefixCache(pageCount: 4, pageSize: 1, isRecordingEvents: false)
        try Self.cache([1, 2], in: &cache)
        cache.evict(pageCount: 1)
        let events = cache.drainEvents().isEmpty
        #expect(events)
    }
}
