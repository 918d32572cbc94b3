// RadixServe: eviction and flushing for RadixPrefixCache.

import HeapModule
import RadixTree
import ServingTypes

extension RadixPrefixCache {
    /// Evicts unlocked leaves across all namespaces, least recently used first (ties by
    /// namespace, then node id), until `pageCount` pages are freed or nothing unlocked is
    /// left. Emits one `removed` event per evicted edge. O(n log n) in cached nodes.
    @discardableResult
    public mutating func evict(pageCount target: Int) -> Int {
        guard target > 0 else { return 0 }
        var heap = Heap<EvictionCandidate>(
            trees.flatMap { namespace, tree in
                tree.evictableLeaves().map {
                    EvictionCandidate(lastAccess: tree.lastAccess(of: $0), tag: namespace, node: $0)
                }
            })
        var freed = 0
        while freed < target, let candidate = heap.popMin() {
            let namespace = candidate.tag
            let parent = trees[namespace]!.parent(of: candidate.node)!
            let value = trees[namespace]!.removeLeaf(candidate.node)
            pool.releaseFromCache(value.pages)
            freed += value.pages.count
            if isRecordingEvents { pendingEvents.append(.removed(pageHashes: value.hashes)) }
            if trees[namespace]!.isEvictableLeaf(parent) {
                heap.insert(
                    EvictionCandidate(lastAccess: trees[namespace]!.lastAccess(of: parent), tag: namespace, node: parent))
            } else if trees[namespace]!.isEmpty {
                trees[namespace] = nil
            }
        }
        return freed
    }

    /// Drops the whole cache when nothing is locked. Emits `cleared`. O(cached pages).
    public mutating func flush() -> Bool {
        guard trees.values.allSatisfy({ $0.lockedPageCount == 0 }) else { return false }
        for tree in trees.values {
            for leafOrInner in tree.allNodes() {
                pool.releaseFromCache(tree.value(of: leafOrInner)!.pages)
            }
        }
        trees = [:]
        if isRecordingEvents { pendingEvents.append(.cleared) }
        return true
    }
}

extension RadixTree {
    /// Every live non-root node, in no particular order. O(node slots).
    package func allNodes() -> [RadixNodeID] {
        var result: [RadixNodeID] = []
        var stack: [RadixNodeID] = [.root]
        while let node = stack.popLast() {
            if node != .root { result.append(node) }
            stack += children(of: node)
        }
        return result
    }
}
