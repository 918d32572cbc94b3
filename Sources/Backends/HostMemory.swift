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

    /// Allocates `byteCount` zeroed bytes, 64-byte aligned. From 2 MiB on, the block is a fresh
    /// anonymous mapping, aligned to 2 MiB and marked for transparent huge pages (`MADV_HUGEPAGE`;
    /// kernels configured `madvise` give them only on request): weights and the KV cache are
    /// streamed every step, and with 4 KiB pages every 64 cache lines cost a TLB miss. The mapping
    /// is zero and faulted in on first touch, so a large KV pool costs only the pages in use.
    /// Free with ``deallocate(_:byteCount:)``.
    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        #if canImport(Glibc)
        if byteCount >= hugePageBytes {
            let size = roundedToHugePages(byteCount)
            let span = size + hugePageBytes
            guard let mapped = mmap(nil, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mapped != MAP_FAILED else {
                fatalError("out of memory mapping \(byteCount) bytes (errno \(errno))")
            }
            // Keep the 2 MiB-aligned `size` bytes inside the mapping; return the slack around them.
            let start = (Int(bitPattern: mapped) + hugePageBytes - 1) / hugePageBytes * hugePageBytes
            let head = start - Int(bitPattern: mapped)
            if head > 0 { munmap(mapped, head) }
            if span - head - size > 0 { munmap(UnsafeMutableRawPointer(bitPattern: start + size), span - head - size) }
            let block = UnsafeMutableRawPointer(bitPattern: start)!
            _ = madvise(block, size, MADV_HUGEPAGE)  // advisory: without THP the block still works
            return block
        }
        #endif
        let block = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        block.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        return block
    }

    /// Frees a block from ``allocate(byteCount:)`` of the same `byteCount`.
    static func deallocate(_ block: UnsafeMutableRawPointer, byteCount: Int) {
        #if canImport(Glibc)
        if byteCount >= hugePageBytes {
            munmap(block, roundedToHugePages(byteCount))
            return
        }
        #endif
        block.deallocate()
    }

    private static func roundedToHugePages(_ byteCount: Int) -> Int {
        (byteCount + hugePageBytes - 1) / hugePageBytes * hugePageBytes
    }
}
