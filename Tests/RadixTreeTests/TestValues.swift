import RadixTree

/// A per-page test value: one label per page of the edge, split like page ids.
struct PageLabels: RadixTreeValue, Hashable {
    var labels: [Int]

    func split(atPage pageIndex: Int) -> (prefix: PageLabels, suffix: PageLabels) {
        (PageLabels(labels: Array(labels[..<pageIndex])), PageLabels(labels: Array(labels[pageIndex...])))
    }
}

/// A whole-edge test value, like the router's worker set: both halves get a copy.
struct WorkerSet: RadixTreeValue, Hashable {
    var workers: Set<Int>

    func split(atPage pageIndex: Int) -> (prefix: WorkerSet, suffix: WorkerSet) { (self, self) }
}

extension RadixTree where Value == PageLabels {
    /// Inserts `key`, labelling each new page with its absolute page index.
    @discardableResult
    mutating func insertLabelled(_ key: [Int32], now: UInt64 = 0) -> RadixInsertion {
        insert(key[...], now: now) { range, _ in PageLabels(labels: Array(range)) }
    }
}
