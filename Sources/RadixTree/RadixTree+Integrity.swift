// RadixServe: structural invariants of RadixTree.

extension RadixTree {
    /// Verifies the tree's structural invariants, throwing the first violation found.
    ///
    /// Checked: every live node is reachable from the root exactly once; parent links and
    /// child keys agree with edge labels; edges are non-empty whole pages; depths add up;
    /// lock counts are non-negative and a parent's count is at least the sum of its
    /// children's; ``pageCount``, ``lockedPageCount`` and ``nodeCount`` match the nodes;
    /// free slots are exactly the dead slots. O(n).
    public func checkIntegrity() throws(IntegrityViolation) {
        var seen = [Bool](repeating: false, count: nodes.count)
        var stack: [Int32] = [0]
        var pages = 0
        var lockedPages = 0
        var liveCount = 0
        seen[0] = true
        while let current = stack.popLast() {
            let node = nodes[Int(current)]
            guard node.isLive else { throw IntegrityViolation("dead node#\(current) is reachable") }
            guard node.lockCount >= 0 else { throw IntegrityViolation("node#\(current) lock count \(node.lockCount)") }
            var childLocks: Int32 = 0
            for (firstPage, child) in node.children {
                guard child > 0, Int(child) < nodes.count, !seen[Int(child)] else {
                    throw IntegrityViolation("node#\(child) reached twice or out of range")
                }
                seen[Int(child)] = true
                let childNode = nodes[Int(child)]
                guard childNode.parent == current else { throw IntegrityViolation("node#\(child) parent link") }
                guard !childNode.key.isEmpty, childNode.key.count % pageSize == 0 else {
                    throw IntegrityViolation("node#\(child) edge length \(childNode.key.count)")
                }
                guard Array(childNode.key.prefix(pageSize)) == Array(firstPage) else {
                    throw IntegrityViolation("node#\(child) child key differs from its edge")
                }
                guard childNode.depth == node.depth + childNode.key.count else {
                    throw IntegrityViolation("node#\(child) depth \(childNode.depth)")
                }
                guard childNode.value != nil else { throw IntegrityViolation("node#\(child) has no value") }
                childLocks += childNode.lockCount
                stack.append(child)
            }
            guard current == 0 || node.lockCount >= childLocks else {
                throw IntegrityViolation("node#\(current) lock count below its children's")
            }
            if current != 0 {
                liveCount += 1
                pages += node.key.count / pageSize
                if node.lockCount > 0 { lockedPages += node.key.count / pageSize }
            }
        }
        for index in nodes.indices where nodes[index].isLive != seen[index] {
            throw IntegrityViolation("node#\(index) live but unreachable")
        }
        guard Set(freeSlots).count == freeSlots.count,
            freeSlots.allSatisfy({ !nodes[Int($0)].isLive }),
            freeSlots.count + liveCount + 1 == nodes.count
        else { throw IntegrityViolation("free slot list inconsistent") }
        guard pages == pageCount, lockedPages == lockedPageCount, liveCount == nodeCount else {
            throw IntegrityViolation(
                "counters: pages \(pages)/\(pageCount), locked \(lockedPages)/\(lockedPageCount), nodes \(liveCount)/\(nodeCount)"
            )
        }
    }
}
