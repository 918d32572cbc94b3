// RadixServe: one edge of a prefix cache's contents, as the router's index needs it.

/// A run of cached pages that hangs below one parent page, named by ``PageHasher``
/// hashes: `pageHashes[0]`'s parent is `parentHash` (`nil`: the chain starts at the root of
/// `namespace`) and `pageHashes[i]`'s parent is `pageHashes[i-1]`.
///
/// A listing of chains (``PrefixCache/cachedChains()``) carries the same information as the
/// `stored` events that would rebuild the cache from empty, without the token ids.
public struct CachedPageChain: Hashable, Sendable {
    /// The namespace (cache salt / adapter id) of the chain.
    public var namespace: UInt64
    /// The hash of the page just above the chain, or `nil` at the root.
    public var parentHash: UInt64?
    /// The chain's page hashes, shallowest first; never empty.
    public var pageHashes: [UInt64]

    /// Creates a chain. Precondition: `pageHashes` is not empty.
    public init(namespace: UInt64, parentHash: UInt64?, pageHashes: [UInt64]) {
        precondition(!pageHashes.isEmpty, "a cached chain has at least one page")
        self.namespace = namespace
        self.parentHash = parentHash
        self.pageHashes = pageHashes
    }
}
