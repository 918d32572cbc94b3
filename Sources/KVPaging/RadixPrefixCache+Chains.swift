// RadixServe: listing the whole cached set of RadixPrefixCache (for router resyncs).

import RadixTree
import ServingTypes

extension RadixPrefixCache {
    /// Every edge of every namespace's tree as a ``CachedChain``, namespaces in ascending
    /// order, each tree in depth-first pre-order (a chain's parent chain always comes first).
    ///
    /// Reflects the current contents, so it already includes the effects of events still
    /// pending in ``drainEvents()``: drain and publish those first, then list, and a consumer
    /// that applies the published events and then replaces its view with this listing stays
    /// exact. Does not touch recency or locks. O(cached pages + nodes).
    public func cachedChains() -> [CachedChain] {
        var chains: [CachedChain] = []
        for namespace in trees.keys.sorted() {
            let tree = trees[namespace]!
            var stack: [(node: RadixNodeID, parentHash: UInt64?)] = tree.children(of: .root).map { ($0, nil) }
            while let (node, parentHash) = stack.popLast() {
                let hashes = tree.value(of: node)!.hashes
                chains.append(CachedChain(namespace: namespace, parentHash: parentHash, pageHashes: hashes))
                stack += tree.children(of: node).map { ($0, hashes.last) }
            }
        }
        return chains
    }
}
