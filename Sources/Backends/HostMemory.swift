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
}
