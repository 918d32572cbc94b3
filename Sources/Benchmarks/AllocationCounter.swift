#if canImport(Glibc)
import Glibc
#endif

/// Reads the allocation counter of the preloaded `libRadixServeMallocCounter.so`, when present.
enum AllocationCounter {
    private typealias CountFunction = @convention(c) () -> Int

    /// Allocations so far, or nil when the counter library is not preloaded.
    static func current() -> Int? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "radixserve_allocation_count") else { return nil }
        return unsafeBitCast(symbol, to: CountFunction.self)()
    }
}
