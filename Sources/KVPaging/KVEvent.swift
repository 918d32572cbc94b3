// RadixServe: prefix-cache change events published to the router.

/// A change to a worker's prefix cache, published so the router's global index stays exact.
///
/// Page hashes are ``PageHasher`` chains: a hash names a page and its whole prefix in its
/// namespace. Events are emitted in the order the changes happened; because the cache only
/// ever adds and removes leaves, a `stored` parent is always already stored (or `nil` for
/// a chain that starts at the root), and `removed` pages never have stored descendants.
public enum KVEvent: Hashable, Sendable {
    /// Pages were added under the page whose hash is `parentHash` (`nil`: at the root).
    /// `tokenIDs` holds the tokens of all stored pages, concatenated (`pageHashes.count · pageSize`).
    case stored(namespace: UInt64, pageHashes: [UInt64], parentHash: UInt64?, tokenIDs: [Int32])
    /// Pages were evicted; they were the deepest pages of their chains.
    case removed(pageHashes: [UInt64])
    /// Everything was dropped (a flush).
    case cleared
}
