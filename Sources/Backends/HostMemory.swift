#if canImport(Glibc)
import Glibc
#endif

/// Host RAM figures for host-memory devices.
public enum HostMemory {
    /// Available and total physical memory in bytes (from sysconf).
    public static func info() -> (free: Int, total: Int) {
        #if canImport(Glibc)
        let page = sysconf(Int32(_SC_PAGESIZE))
        let total = sysconf(Int32(_SC_PHYS_PAGES)) * page
        let available = sysconf(Int32(_SC_AVPHYS_PAGES)) * page
        return (available, total)
        #else
        return (0, 0)
        #endif
    }

    /// Size and alignment of a transparent huge page on x86_64 Linux.
    static let hugePageBytes = 2 << 20

    /// Allocates `byteCount` zeroed bytes, 64-byte aligned. From 2 MiB on, the block is aligned to
    /// 2 MiB and marked for transparent huge pages (`MADV_HUGEPAGE`; kernels configured `madvise`
    /// give them only on request): weights and the KV cache are streamed every step, and with 4 KiB
    /// pages every 64 cache lines cost a TLB miss and stop the hardware prefetcher. Free with
    /// ``deallocate(_:)``.
    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        #if canImport(Glibc)
        if byteCount >= hugePageBytes {
            let size = (byteCount + hugePageBytes - 1) / hugePageBytes * hugePageBytes
            var block: UnsafeMutableRawPointer?
            guard posix_memalign(&block, hugePageBytes, size) == 0, let block else {
                fatalError("out of memory allocating \(byteCount) bytes")
            }
            _ = madvise(block, size, MADV_HUGEPAGE)  // advisory: without THP the block still works
            block.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
            return block
        }
        #endif
        let block = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        block.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        return block
    }

    /// Frees a block from ``allocate(byteCount:)``.
    static func deallocate(_ block: UnsafeMutableRawPointer) {
        // Both paths end in the C allocator: `UnsafeMutableRawPointer.allocate` uses it on Linux.
        #if canImport(Glibc)
        free(block)
        #else
        block.deallocate()
        #endif
    }
}
