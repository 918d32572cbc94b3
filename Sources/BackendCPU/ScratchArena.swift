/// Per-thread scratch memory (attention blocks, widened weight blocks, permuted inputs), grown on
/// demand and reused across steps, so no allocation happens once the largest shapes have been seen.
/// Owned by one thread at a time.
@usableFromInline
final class ScratchArena {
    private var buffers: [UnsafeMutablePointer<Float>] = []
    private var capacities: [Int] = []

    init() {
        for _ in 0..<4 {
            buffers.append(.allocate(capacity: 64))
            capacities.append(64)
        }
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
    }

    @usableFromInline func query(_ count: Int) -> UnsafeMutablePointer<Float> { slot(0, count) }
    @usableFromInline func keys(_ count: Int) -> UnsafeMutablePointer<Float> { slot(1, count) }
    @usableFromInline func values(_ count: Int) -> UnsafeMutablePointer<Float> { slot(2, count) }
    @usableFromInline func scores(_ count: Int) -> UnsafeMutablePointer<Float> { slot(3, count) }

    /// Slot `index` (0..<4) with room for at least `count` floats; contents are not preserved.
    @usableFromInline
    func slot(_ index: Int, _ count: Int) -> UnsafeMutablePointer<Float> {
        if capacities[index] < count {
            buffers[index].deallocate()
            let capacity = max(count, capacities[index] * 2)
            buffers[index] = .allocate(capacity: capacity)
            capacities[index] = capacity
        }
        return buffers[index]
    }
}
