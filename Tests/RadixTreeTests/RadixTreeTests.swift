import RadixTree
import Testing

@Suite struct RadixTreeTests {
    // MARK: - Match and insert

    @Test func emptyTreeMatchesNothing() throws {
        var tree = RadixTree<PageLabels>(pageSize: 2)
        let match = tree.match([1, 2, 3, 4], now: 1)
        #expect(match.matchedLength == 0)
        #expect(match.node == .root)
        #expect(match.path.isEmpty)
        try tree.checkIntegrity()
    }

    @Test func insertThenMatchWholeKey() throws {
        var tree = RadixTree<PageLabels>(pageSize: 2)
        let inserted = tree.insertLabelled([1, 2, 3, 4])
        #expect(inserted.existingLength == 0)
        #expect(inserted.insertedNode != nil)
        let match = tree.match([1, 2, 3, 4, 5, 6], now: 2)
        #expect(match.matchedLength == 4)
        #expect(match.node == inserted.node)
        #expect(tree.value(of: match.node) == PageLabels(labels: [0, 1]))
        #expect(tree.pageCount == 2)
        try tree.checkIntegrity()
    }

    @Test func partialMatchSplitsEdgeAndDeeperHalfKeepsItsID() throws {
        var tree = RadixTree<PageLabels>(pageSize: 2)
        let leaf = try #require(tree.insertLabelled([1, 2, 3, 4, 5, 6]).insertedNode)
        let match = tree.match([1, 2, 3, 4, 9, 9], now: 2)
        #expect(match.matchedLength == 4)
        #expect(match.node != leaf)
        #expect(tree.key(of: match.node) == [1, 2, 3, 4])
        #expect(tree.value(of: match.node) == PageLabels(labels: [0, 1]))
        #expect(tree.key(of: leaf) == [5, 6])
        #expect(tree.value(of: leaf) == PageLabels(labels: [2]))
        #expect(tree.parent(of: leaf) == match.node)
        #expect(tree.depth(of: leaf) == 6)
        #expect(tree.depth(of: match.node) == 4)
        #expect(tree.nodeCount == 2)
        #expect(tree.pageCount == 3)
        try tree.checkIntegrity()
    }

    @Test func mismatchInsideAPageStopsAtThePageStart() throws {
        var tree = RadixTree<PageLabels>(pageSize: 4)
        tree.insertLabelled([1, 2, 3, 4, 5, 6, 7, 8])
        #expect(tree.prefixLength(of: [1, 2, 3, 4, 5, 6, 7, 0]) == 4)
        #expect(tree.prefixLength(of: [1, 2, 3, 0, 5, 6, 7, 8]) == 0)
        #expect(tree.prefixLength(of: [1, 2, 3, 4, 5, 6, 7]) == 4, "a trailing partial page never matches")
        let match = tree.match([1, 2, 3, 4, 5, 6, 7, 0], now: 1)
        #expect(match.matchedLength == 4)
        try tree.checkIntegrity()
    }

    @Test func prefixLengthDoesNotSplitOrTouch() throws {
        var tree = RadixTree<PageLabels>(pageSize: 1)
        let leaf = try #require(tree.insertLabelled([1, 2, 3], now: 5).insertedNode)
        #expect(tree.prefixLength(of: [1, 2, 9]) == 2)
        #expect(tree.nodeCount == 1)
        #expect(tree.lastAccess(of: leaf) == 5)
    }

    @Test func insertReusesExistingPrefixAndBranches() throws {
        var tree = RadixTree<PageLabels>(pageSize: 2)
        tree.insertLabelled([1, 2, 3, 4])
        let second = tree.insertLabelled([1, 2, 7, 8, 9, 10])
        #expect(second.existingLength == 2)
        #expect(second.existingPath.count == 1)
        #expect(tree.value(of: try #require(second.insertedNode)) == PageLabels(labels: [1, 2]))
        let again = tree.insertLabelled([1, 2, 7, 8])
        #expect(again.existingLength == 4)
        #expect(again.insertedNode == nil)
        #expect(tree.key(of: again.node) == [7, 8])
        #expect(tree.leaves().count == 2)
        try tree.checkIntegrity()
    }

    @Test func insertPassesParentValueToMakeValue() {
        var tree = RadixTree<PageLabels>(pageSize: 1)
        tree.insertLabelled([1, 2])
        var seenParent: PageLabels?
        _ = tree.insert([1, 2, 3], now: 1) { range, parent in
            seenParent = parent
            return PageLabels(labels: Array(range))
        }
        #expect(seenParent == PageLabels(labels: [0, 1]))
    }

    @Test func wholeEdgeValuesAreCopiedOnSplit() throws {
        var tree = RadixTree<WorkerSet>(pageSize: 1)
        let leaf = tree.insert([1, 2, 3], now: 0) { _, _ in WorkerSet(workers: [7]) }.node
        let match = tree.match([1, 9], now: 1)
        #expect(tree.value(of: match.node) == WorkerSet(workers: [7]))
        tree.updateValue(of: leaf) { $0.workers.insert(8) }
        #expect(tree.value(of: leaf) == WorkerSet(workers: [7, 8]))
        #expect(tree.value(of: match.node) == WorkerSet(workers: [7]))
        try tree.checkIntegrity()
    }

    // MARK: - Locks

    @Test func lockPinsThePathAndSplitsInheritLocks() throws {
        var tree = RadixTree<PageLabels>(pageSize: 1)
        let leaf = tree.insertLabelled([1, 2, 3, 4]).node
        tree.lock(leaf)
        #expect(tree.lockedPageCount == 4)
        let upper = tree.match([1, 2, 5], now: 1).node
        #expect(tree.lockCount(of: upper) == 1)
        #expect(tree.lockedPageCount == 4)
        #expect(tree.evictableLeaves().isEmpty)
        tree.unlock(leaf)
        #expect(tree.lockedPageCount == 0)
        #expect(tree.lockCount(of: upper) == 0)
        try tree.checkIntegrity()
    }

    @Test func nestedLocksOnSiblingsCountSeparately() throws {
        var tree = RadixTree<PageLabels>(pageSize: 1)
        let a = tree.insertLabelled([1, 2, 3]).node
        let b = tree.insertLabelled([1, 2, 4]).node
        tree.lock(a)
        tree.lock(b)
        tree.lock(b)
        let shared = try #require(tree.parent(of: a))
        #expect(tree.lockCount(of: shared) == 3)
        #expect(tree.lockedPageCount == 4)
        tree.unlock(b)
        tree.unlock(b)
        #expect(tree.lockedPageCount == 3)
        #expect(tree.evictableLeaves() == [b])
        try tree.checkIntegrity()
    }

    // MARK: - Removal and eviction

    @Test func removeLeafKeepsPrefixClosureAndReusesSlots() throws {
        var tree = RadixTree<PageLabels>(pageSize: 1)
        tree.insertLabelled([1, 2, 3])
        let b = tree.insertLabelled([1, 2, 4]).node
        let removed = tree.removeLeaf(b)
        #expect(removed == PageLabels(labels: [2]))
        #expect(tree.prefixLength(of: [1, 2, 4]) == 2)
        #expect(tree.prefixLength(of: [1, 2, 3]) == 3)
        let c = tree.insertLabelled([5]).node
        #expect(c == b, "freed slot is reused")
        try tree.checkIntegrity()
    }

    @Test func evictsLeastRecentlyUsedLeafFirst() throws {
        var tree = RadixTree<PageLabels>(pageSize: 1)
        tree.insertLabelled([1, 1], now: 1)
        tree.insertLabelled([2, 2], now: 2)
        tree.insertLabelled([3, 3], now: 3)
        _ = tree.match([1, 1], now: 4)
        var order: [[Int]] = []
        let freed = tree.evictLeastRecentlyUsed(pageCount: 4) { _, value in order.append(value.labels) }
        #expect(freed == 4)
        #expect(tree.prefixLength(of: [1, 1]) == 2)
        #expect(tree.nodeCount == 1)
        #expect(order == [[0, 1], [0, 1]])
        try tree.checkIntegrity()
    }

    @Test func evictionClimbsIntoParentsThatBecomeLeaves() throws {
        var tree = RadixTree<PageLabels>(pageSize: 1)
        tree.insertLabelled([1, 2, 3], now: 1)
        tree.insertLabelled([1, 2, 4], now: 2)
        tree.insertLabelled([9], now: 3)
        let freed = tree.evictLeastRecentlyUsed(pageCount: 4)
        #expect(freed == 4)
        #expect(tree.prefixLength(of: [1, 2, 3]) == 0)
        #expect(tree.prefixLength(of: [9]) == 1)
        try tree.checkIntegrity()
    }

    @Test func evictionSkipsLockedPaths() throws {
        var tree = RadixTree<PageLabels>(pageSize: 1)
        let locked = tree.insertLabelled([1, 2], now: 1).node
        tree.insertLabelled([3, 4], now: 2)
        tree.lock(locked)
        #expect(tree.evictLeastRecentlyUsed(pageCount: 100) == 2)
        #expect(tree.pageCount == 2)
        #expect(tree.prefixLength(of: [1, 2]) == 2)
        tree.unlock(locked)
        try tree.checkIntegrity()
    }

    @Test func removeAllResetsTheTree() throws {
        var tree = RadixTree<PageLabels>(pageSize: 2)
        tree.insertLabelled([1, 2, 3, 4])
        tree.removeAll()
        #expect(tree.isEmpty)
        #expect(tree.pageCount == 0)
        try tree.checkIntegrity()
    }
}
