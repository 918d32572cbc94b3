// RadixServe: the prefix-cache contract (after mini-sglang kvcache/base.py, BasePrefixCache).

import RadixTree
import ServingTypes

/// Names a matched or inserted prefix so it can be locked and unlocked.
///
/// A handle is valid while its prefix is locked, or until the next operation that may evict
/// (``PrefixCache/evict(pageCount:)``, ``PrefixCache/flush()``) if it is not. The empty
/// handle (nothing matched) is always valid and locking it does nothing.
public struct PrefixCacheHandle: Hashable, Sendable {
    /// The namespace (cache salt / adapter id) of the prefix.
    public var namespace: UInt64
    /// The tree node that ends the prefix.
    public var node: RadixNodeID

    /// Creates a handle.
    public init(namespace: UInt64, node: RadixNodeID) {
        self.namespace = namespace
        self.node = node
    }

    /// The handle of an empty prefix in `namespace`.
    public static func empty(namespace: UInt64) -> PrefixCacheHandle {
        PrefixCacheHandle(namespace: namespace, node: .root)
    }

    /// True for the handle of an empty prefix.
    public var isEmpty: Bool { node == .root }
}

/// The result of ``PrefixCache/match(_:namespace:)``.
public struct PrefixMatch: Hashable, Sendable {
    /// Leading tokens whose KV is cached; a multiple of the page size, below the query length.
    public var cachedTokenCount: Int
    /// The cache-owned pages holding those tokens, `cachedTokenCount / pageSize` of them.
    public var pages: [Int32]
    /// The matched prefix; lock it before relying on `pages`.
    public var handle: PrefixCacheHandle
}

/// The result of ``PrefixCache/insert(_:pages:namespace:)``.
public struct PrefixInsertion: Hashable, Sendable {
    /// The whole inserted prefix (not locked).
    public var handle: PrefixCacheHandle
    /// Tokens of the key that were already cached before the call.
    public var existingTokenCount: Int
    /// Caller pages for already-cached positions that differed from the cache's own pages.
    /// The cache has already freed them; they are reported for accounting only.
    public var duplicatePages: [Int32]
    /// Caller pages the cache took ownership of.
    public var adoptedPageCount: Int
}

/// A page-granular cache of KV prefixes keyed by token ids (RadixAttention).
///
/// Contract:
/// - **Ownership.** The cache owns the ``pool`` and every page it indexes (state *cached*).
///   Callers allocate private pages from ``pool`` and free them there; pages passed to
///   ``insert(_:pages:namespace:)`` for new positions become the cache's and must not be
///   freed by the caller afterwards.
/// - **Locking.** Pages returned by ``match(_:namespace:)`` stay valid only while their
///   handle is locked. A locked prefix (and all its ancestors) is never evicted or flushed.
///   Locks nest; each ``lock(_:)`` needs exactly one ``unlock(_:)``.
/// - **Shape.** The cached set is prefix-closed: eviction removes only leaves, least
///   recently used first, so if a prefix is cached all its shorter page-aligned prefixes are.
/// - **Namespaces.** Prefixes in different namespaces never share pages or match each other.
/// - **Events.** Every structural change is recorded as a ``CacheEvent`` until
///   ``drainEvents()`` hands the pending list over; ``cachedChains()`` lists the current
///   contents in the same terms, for consumers that lost events and must resynchronise.
///
/// Not thread-safe: confined to the engine thread like the scheduler that owns it.
public protocol PrefixCache {
    /// Tokens per page.
    var pageSize: Int { get }

    /// The page allocator; see the ownership rules above.
    var pool: PagePool { get set }

    /// Longest cached page-aligned prefix of `tokens`, never the whole of it: at least one
    /// token is left to compute, so the match is capped at `((count - 1) / pageSize) · pageSize`.
    /// May split internal nodes and refreshes the prefix's recency. Does not lock.
    mutating func match(_ tokens: ArraySlice<Int32>, namespace: UInt64) -> PrefixMatch

    /// Pins the prefix of `handle` against eviction. Precondition: the handle is valid.
    mutating func lock(_ handle: PrefixCacheHandle)

    /// Releases one ``lock(_:)``. Precondition: the handle is locked.
    mutating func unlock(_ handle: PrefixCacheHandle)

    /// Caches the whole pages of `tokens`, whose KV is in `pages[i]` for page `i`.
    ///
    /// For positions already cached, a caller page that is the cache's own page is simply
    /// shared; any other caller page there is a duplicate and is freed. Caller pages for new
    /// positions are adopted. Pages beyond the whole pages of `tokens` are untouched.
    /// - Precondition: `pages.count >= tokens.count / pageSize`; new pages are in use.
    mutating func insert(_ tokens: ArraySlice<Int32>, pages: ArraySlice<Int32>, namespace: UInt64) -> PrefixInsertion

    /// Evicts unlocked leaves in LRU order until at least `pageCount` pages are freed or
    /// nothing unlocked remains. Returns the number of pages freed.
    mutating func evict(pageCount: Int) -> Int

    /// Drops every cached page if nothing is locked and returns true; otherwise changes
    /// nothing and returns false.
    mutating func flush() -> Bool

    /// Cached pages not pinned by any lock (all evictable, leaf by leaf).
    var evictablePageCount: Int { get }

    /// Pages owned by the cache.
    var cachedPageCount: Int { get }

    /// Verifies the cache and pool invariants (free + cached + in use == total, every cached
    /// page indexed exactly once, lock counts non-negative). O(pages + tokens cached).
    func checkIntegrity() throws(IntegrityViolation)

    /// Returns the pending events, oldest first, and forgets them.
    mutating func drainEvents() -> [CacheEvent]

    /// The whole cached set as chains, each chain listed after the chain holding its parent
    /// page. Replaying one `stored` event per chain from an empty cache yields exactly the
    /// cached pages; the listing includes the effects of events not drained yet.
    func cachedChains() -> [CachedChain]
}
