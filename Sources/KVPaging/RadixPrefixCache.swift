// RadixServe: the radix-tree prefix cache (after mini-sglang kvcache/radix_cache.py).

import PageHashing
import RadixTree
import ServingTypes

/// A ``PrefixCache`` backed by one page-aligned ``RadixTree`` per namespace.
///
/// All trees share one logical clock, so LRU eviction is global across namespaces. Each
/// edge stores its page ids and chained ``PageHasher`` hashes, so evictions can be reported
/// to the router by hash without recomputing anything.
///
/// Not thread-safe: a value type confined to the engine thread.
public struct RadixPrefixCache: PrefixCache {
    /// Tokens per page.
    public let pageSize: Int

    /// The page allocator (see ``PrefixCache`` for ownership).
    public var pool: PagePool

    /// The hasher used for page hashes in ``CacheEvent``s.
    public let hasher: PageHasher

    /// When false, no events are recorded (for callers without a router).
    public var isRecordingEvents: Bool

    package var trees: [UInt64: RadixTree<CachedPages>] = [:]
    package var clock: UInt64 = 0
    package var pendingEvents: [CacheEvent] = []

    /// Creates an empty cache over a new pool of `pageCount` pages.
    /// Precondition: `pageSize >= 1`, `pageCount >= 0`.
    public init(pageCount: Int, pageSize: Int, hashSeed: UInt64 = 0, isRecordingEvents: Bool = true) {
        self.pageSize = pageSize
        self.pool = PagePool(pageCount: pageCount)
        self.hasher = PageHasher(seed: hashSeed, pageSize: pageSize)
        self.isRecordingEvents = isRecordingEvents
    }

    public var cachedPageCount: Int { pool.cachedPageCount }

    public var evictablePageCount: Int { trees.values.reduce(0) { $0 + $1.unlockedPageCount } }

    /// Longest cached prefix of `tokens` (capped as in ``match(_:namespace:)``) without
    /// splitting, touching or locking anything. For ordering policies. O(tokens).
    public func peekCachedTokenCount(_ tokens: ArraySlice<Int32>, namespace: UInt64) -> Int {
        guard let tree = trees[namespace] else { return 0 }
        return tree.prefixLength(of: tokens.prefix(matchLimit(tokens.count)))
    }

    public mutating func match(_ tokens: ArraySlice<Int32>, namespace: UInt64) -> PrefixMatch {
        guard trees[namespace] != nil else {
            return PrefixMatch(cachedTokenCount: 0, pages: [], handle: .empty(namespace: namespace))
        }
        clock += 1
        let now = clock
        let limit = matchLimit(tokens.count)
        let result = trees[namespace]!.match(tokens.prefix(limit), now: now)
        var pages: [Int32] = []
        pages.reserveCapacity(result.matchedLength / pageSize)
        for node in result.path {
            pages += trees[namespace]!.value(of: node)!.pages
        }
        return PrefixMatch(
            cachedTokenCount: result.matchedLength,
            pages: pages,
            handle: PrefixCacheHandle(namespace: namespace, node: result.node)
        )
    }

    public mutating func lock(_ handle: PrefixCacheHandle) {
        guard !handle.isEmpty else { return }
        precondition(trees[handle.namespace] != nil, "lock of a handle in an empty namespace")
        trees[handle.namespace]!.lock(handle.node)
    }

    public mutating func unlock(_ handle: PrefixCacheHandle) {
        guard !handle.isEmpty else { return }
        precondition(trees[handle.namespace] != nil, "unlock of a handle in an empty namespace")
        trees[handle.namespace]!.unlock(handle.node)
    }

    public mutating func insert(
        _ tokens: ArraySlice<Int32>,
        pages: ArraySlice<Int32>,
        namespace: UInt64
    ) -> PrefixInsertion {
        let wholePages = tokens.count / pageSize
        precondition(pages.count >= wholePages, "insert needs one page per whole page of tokens")
        guard wholePages > 0 else {
            return PrefixInsertion(
                handle: .empty(namespace: namespace), existingTokenCount: 0, duplicatePages: [], adoptedPageCount: 0)
        }
        clock += 1
        let key = tokens.prefix(wholePages * pageSize)
        let hasher = self.hasher
        let pageBase = pages.startIndex
        let result = trees[namespace, default: RadixTree(pageSize: pageSize)].insert(key, now: clock) {
            range, parentValue in
            let start = key.startIndex + range.lowerBound * pageSize
            let hashes = hasher.chain(key[start...], namespace: namespace, parent: parentValue?.hashes.last)
            return CachedPages(pages: Array(pages[pageBase + range.lowerBound..<pageBase + range.upperBound]), hashes: hashes)
        }
        let tree = trees[namespace]!
        // Caller pages that shadow pages the tree already had are duplicates.
        var duplicates: [Int32] = []
        var position = 0
        for node in result.existingPath {
            for page in tree.value(of: node)!.pages {
                let callerPage = pages[pageBase + position]
                if callerPage != page { duplicates.append(callerPage) }
                position += 1
            }
        }
        pool.free(duplicates)
        var adopted = 0
        if let leaf = result.insertedNode {
            let value = tree.value(of: leaf)!
            pool.adoptIntoCache(value.pages)
            adopted = value.pages.count
            if isRecordingEvents {
                let parent = tree.parent(of: leaf).flatMap { tree.value(of: $0)?.hashes.last }
                pendingEvents.append(
                    .stored(namespace: namespace, parentHash: parent, pageHashes: value.hashes))
            }
        }
        return PrefixInsertion(
            handle: PrefixCacheHandle(namespace: namespace, node: result.node),
            existingTokenCount: result.existingLength,
            duplicatePages: duplicates,
            adoptedPageCount: adopted
        )
    }

    public mutating func drainEvents() -> [CacheEvent] {
        defer { pendingEvents = [] }
        return pendingEvents
    }

    /// Lock count of the prefix named by `handle` (0 for the empty handle).
    public func lockCount(of handle: PrefixCacheHandle) -> Int {
        guard !handle.isEmpty, let tree = trees[handle.namespace] else { return 0 }
        return tree.lockCount(of: handle.node)
    }

    /// Most leading tokens of a `tokenCount`-token query the cache can serve: whole pages, and at
    /// least one token must stay uncached so the model has something to compute.
    public func matchLimit(_ tokenCount: Int) -> Int {
        tokenCount <= 0 ? 0 : (tokenCount - 1) / pageSize * pageSize
    }
}
