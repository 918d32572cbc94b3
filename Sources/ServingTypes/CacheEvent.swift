// RadixServe: prefix-cache changes, as a worker publishes them and the router's index applies them.

/// A change to a worker's prefix cache, published so the router's global index stays exact.
///
/// Page hashes are page-hash chains (see `PageHasher`): a hash names a page and its whole prefix
/// in its namespace. Events come in the order the changes happened; because the cache only adds
/// and removes leaves, a `stored` parent is always already stored (or `nil` for a chain that
/// starts at the root), and `removed` pages never have stored descendants.
public enum CacheEvent: Hashable, Sendable {
    /// Pages cached as one chain under `parentHash` (`nil`: at the root of `namespace`).
    /// `pageHashes[0]`'s parent is `parentHash`, `pageHashes[i]`'s parent is `pageHashes[i-1]`.
    case stored(namespace: UInt64, parentHash: UInt64?, pageHashes: [UInt64])
    /// Pages evicted; each was a leaf when removed.
    case removed(pageHashes: [UInt64])
    /// The whole cache was dropped (a flush).
    case cleared
}

/// One cached chain of a snapshot: pages under `parentHash` in `namespace`, parents first.
public struct CachedChain: Hashable, Sendable {
    /// The chain's cache namespace.
    public var namespace: UInt64
    /// The page above the chain's first page; `nil` at the root.
    public var parentHash: UInt64?
    /// The chain's pages, parents first.
    public var pageHashes: [UInt64]

    /// Creates a chain.
    public init(namespace: UInt64, parentHash: UInt64?, pageHashes: [UInt64]) {
        self.namespace = namespace
        self.parentHash = parentHash
        self.pageHashes = pageHashes
    }
}
