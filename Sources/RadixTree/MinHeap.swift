// RadixServe: a small binary min-heap used for LRU eviction.

/// An array-backed binary min-heap.
///
/// Value type; not thread-safe. `insert` and `popMin` are O(log n).
public struct MinHeap<Element: Comparable> {
    @usableFromInline
    var storage: [Element] = []

    /// Creates an empty heap.
    public init() {}

    /// Builds a heap from unordered elements in O(n).
    public init(_ elements: [Element]) {
        storage = elements
        var index = storage.count / 2
        while index > 0 {
            index -= 1
            siftDown(index)
        }
    }

    /// Number of elements.
    public var count: Int { storage.count }

    /// True when the heap is empty.
    public var isEmpty: Bool { storage.isEmpty }

    /// The smallest element, if any.
    public var min: Element? { storage.first }

    /// Adds an element.
    public mutating func insert(_ element: Element) {
        storage.append(element)
        var child = storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard storage[child] < storage[parent] else { break }
            storage.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the smallest element, or `nil` when empty.
    public mutating func popMin() -> Element? {
        guard !storage.isEmpty else { return nil }
        storage.swapAt(0, storage.count - 1)
        let result = storage.removeLast()
        siftDown(0)
        return result
    }

    mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < storage.count else { return }
            var smallest = left
            if left + 1 < storage.count && storage[left + 1] < storage[left] { smallest = left + 1 }
            guard storage[smallest] < storage[parent] else { return }
            storage.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

extension MinHeap: Sendable where Element: Sendable {}
