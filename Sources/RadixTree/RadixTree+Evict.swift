// RadixServe: leaf removal and LRU eviction for RadixTree.

import HeapModule

extension RadixTree {
    /// Removes an unlocked leaf and returns its value.
    ///
    /// Removing only leaves keeps the stored key set prefix-closed: every stored prefix's
    /// own prefixes stay stored. The node's id may be reused by a later insert or split.
    /// - Precondition: `node` is a live, unlocked leaf (not the root).
    @discardableResult
    public mutating func removeLeaf(_ node: RadixNodeID) -> Value {
        precondition(isLeaf(node), "removeLeaf on a non-leaf \(node)")
        let index = Int(node.rawValue)
        precondition(nodes[index].lockCount == 0, "removeLeaf on locked \(node)")
        let removed = nodes[index]
        nodes[Int(removed.parent)].children[childKey(removed.key[...])] = nil
        nodes[index] = .free
        freeSlots.append(node.rawValue)
        nodeCount -= 1
        pageCount -= removed.key.count / pageSize
        return removed.value!
    }

    /// All leaves, in node-id order. O(node slots).
    public func leaves() -> [RadixNodeID] {
        var result: [RadixNodeID] = []
        for index in 1..<nodes.count where nodes[index].isLive && nodes[index].children.isEmpty {
            result.append(RadixNodeID(rawValue: Int32(index)))
        }
        return result
    }

    /// Leaves that can be removed now (lock count zero), in node-id order. O(node slots).
    public func evictableLeaves() -> [RadixNodeID] {
        leaves().filter { nodes[Int($0.rawValue)].lockCount == 0 }
    }

    /// True when `node` is a live, unlocked leaf.
    public func isEvictableLeaf(_ node: RadixNodeID) -> Bool {
        isLeaf(node) && self[node].lockCount == 0
    }

    /// Removes unlocked leaves in least-recently-used order until at least `pageCount` pages
    /// are gone or nothing more is evictable. A parent that becomes an unlocked leaf joins
    /// the candidates, so whole cold branches go before warm ones.
    ///
    /// `onRemove` sees each removed node (its id is already free) and its value.
    /// Ties on access time break by node id, so eviction is deterministic.
    /// - Returns: the number of pages removed (may exceed `pageCount`; whole edges go).
    /// - Complexity: O(n log n) in the number of nodes.
    @discardableResult
    public mutating func evictLeastRecentlyUsed(
        pageCount target: Int,
        _ onRemove: (RadixNodeID, Value) -> Void = { _, _ in }
    ) -> Int {
        var heap = Heap<EvictionCandidate>()
        for leaf in evictableLeaves() {
            heap.insert(EvictionCandidate(lastAccess: self[leaf].lastAccess, tag: 0, node: leaf))
        }
        var removed = 0
        while removed < target, let candidate = heap.popMin() {
            let parent = self[candidate.node].parent
            removed += pageCount(of: candidate.node)
            let value = removeLeaf(candidate.node)
            onRemove(candidate.node, value)
            let parentID = RadixNodeID(rawValue: parent)
            if isEvictableLeaf(parentID) {
                heap.insert(EvictionCandidate(lastAccess: self[parentID].lastAccess, tag: 0, node: parentID))
            }
        }
        return removed
    }
}

/// An eviction candidate ordered by (last access, tag, node id).
///
/// `tag` lets a caller that evicts across several trees (one per namespace) break ties
/// deterministically and remember which tree the node belongs to.
public struct EvictionCandidate: Comparable, Hashable, Sendable {
    /// The node's last-access tick.
    public var lastAccess: UInt64
    /// Caller-defined discriminator, compared after `lastAccess`.
    public var tag: UInt64
    /// The candidate leaf.
    public var node: RadixNodeID

    /// Creates a candidate.
    public init(lastAccess: UInt64, tag: UInt64, node: RadixNodeID) {
        self.lastAccess = lastAccess
        self.tag = tag
        self.node = node
    }

    public static func < (lhs: EvictionCandidate, rhs: EvictionCandidate) -> Bool {
        (lhs.lastAccess, lhs.tag, lhs.node.rawValue) < (rhs.lastAccess, rhs.tag, rhs.node.rawValue)
    }
}
