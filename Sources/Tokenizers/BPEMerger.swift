// The BPE merge loop and the per-word cache.
// Port of HF tokenizers models/bpe/word.rs (Word::merge_all): lowest rank first, then leftmost.

import Synchronization

/// Applies ranked merges to a sequence of symbol ids.
enum BPEMerger {
    /// Merges `symbols` until no adjacent pair has a merge; returns the final ids.
    /// Complexity: O(n log n) in the number of symbols.
    static func mergeAll(_ symbols: [Int], merges: [UInt64: UInt64]) -> [Int] {
        let count = symbols.count
        if count < 2 { return symbols }
        var ids = symbols
        var previous = Array(-1..<(count - 1))
        var next = Array(1...count)
        var alive = [Bool](repeating: true, count: count)
        // Min-heap of packed (rank << 32 | position).
        var heap: [UInt64] = []
        heap.reserveCapacity(count)

        @inline(__always) func mergeFor(_ left: Int, _ right: Int) -> UInt64? {
            merges[UInt64(left) << 32 | UInt64(right)]
        }
        for position in 0..<(count - 1) {
            if let merge = mergeFor(ids[position], ids[position + 1]) {
                heapPush(&heap, (merge & 0xFFFF_FFFF_0000_0000) | UInt64(position))
            }
        }
        while let top = heapPop(&heap) {
            let position = Int(top & 0xFFFF_FFFF)
            let rank = top >> 32
            guard alive[position], next[position] < count else { continue }
            let right = next[position]
            guard let merge = mergeFor(ids[position], ids[right]), merge >> 32 == rank else { continue }
            ids[position] = Int(merge & 0xFFFF_FFFF)
            alive[right] = false
            next[position] = next[right]
            if next[right] < count { previous[next[right]] = position }
            if previous[position] >= 0, let merge = mergeFor(ids[previous[position]], ids[position]) {
                heapPush(&heap, (merge & 0xFFFF_FFFF_0000_0000) | UInt64(previous[position]))
            }
            if next[position] < count, let merge = mergeFor(ids[position], ids[next[position]]) {
                heapPush(&heap, (merge & 0xFFFF_FFFF_0000_0000) | UInt64(position))
            }
        }
        var result: [Int] = []
        result.reserveCapacity(count)
        var position = 0
        while position < count {
            result.append(ids[position])
            position = next[position]
        }
        return result
    }

    private static func heapPush(_ heap: inout [UInt64], _ value: UInt64) {
        heap.append(value)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if heap[parent] <= heap[child] { break }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private static func heapPop(_ heap: inout [UInt64]) -> UInt64? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if heap.isEmpty { return top }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            if left >= heap.count { break }
            let right = left + 1
            let smallest = right < heap.count && heap[right] < heap[left] ? right : left
            if heap[parent] <= heap[smallest] { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}

/// A bounded word → ids cache shared by all threads using one tokenizer.
///
/// Thread-safe: every access takes the internal mutex. Once `capacity` words are stored,
/// new words are no longer cached (as the reference implementation does).
final class WordCache: Sendable {
    private let storage: Mutex<[[Unicode.Scalar]: [Int]]>
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        storage = Mutex([:])
    }

    func lookup(_ word: [Unicode.Scalar]) -> [Int]? {
        storage.withLock { $0[word] }
    }

    func store(_ word: [Unicode.Scalar], _ ids: [Int]) {
        storage.withLock { cache in
            if cache.count < capacity { cache[word] = ids }
        }
    }
}
