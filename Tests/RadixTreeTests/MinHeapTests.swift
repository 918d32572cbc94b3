import RadixTree
import Testing
import TestSupport

@Suite struct MinHeapTests {
    @Test func popsInSortedOrder() {
        var generator = SplitMix64(seed: 1)
        let values = (0..<500).map { _ in Int.random(in: 0..<100, using: &generator) }
        var heap = MinHeap(Array(values[..<250]))
        for value in values[250...] { heap.insert(value) }
        var popped: [Int] = []
        while let value = heap.popMin() { popped.append(value) }
        #expect(popped == values.sorted())
        #expect(heap.isEmpty)
    }
}
