#if canImport(Glibc)
import Glibc
#endif

/// Reads the allocation counter of the preloaded `libRadixServeMallocCounter.so`, when present.
enum AllocationCounter {
    private typealias CountFunction = @convention(c) () -> Int

    /// Allocations so far, or nil when the counter library is not preloaded.
    static func current() -> Int? {
        count?()
    }

    /// Looked up once: `dlsym` itself may allocate.
    private static let count: CountFunction? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "radixserve_allocation_count")
        .map { unsafeBitCast($0, to: CountFunction.self) }
}
