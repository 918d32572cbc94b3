#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS picks its kernels from the CPU model when the library loads. Under some hypervisors the
/// model is generic ("Intel Xeon Processor") and OpenBLAS falls back to SSE3 kernels, 5–10× slower.
/// `OPENBLAS_CORETYPE` overrides the choice but is read only at load time, so executables call
/// ``environmentOverride()`` first thing and re-exec themselves with it set.
public enum OpenBLASCore {
    /// The environment variable OpenBLAS reads.
    public static let variable = "OPENBLAS_CORETYPE"

    /// The core type to force on this CPU, or nil when the user set one or none is needed.
    public static func environmentOverride() -> String? {
        guard getenv(variable) == nil else { return nil }
        guard let flags = cpuFlags() else { return nil }
        if flags.contains("avx512f") && flags.contains("avx512bw") && flags.contains("avx512vl") { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        return nil
    }

    /// Sets the override and replaces the process with a fresh copy of itself (same arguments), so
    /// OpenBLAS loads with it. Returns only when nothing needs changing or exec failed.
    public static func reexecIfNeeded() {
        guard let core = environmentOverride() else { return }
        setenv(variable, core, 1)
        let arguments = CommandLine.unsafeArgv
        execv("/proc/self/exe", arguments)
        // exec failed: carry on with whatever kernels OpenBLAS chose.
    }

    private static func cpuFlags() -> Set<Substring>? {
        guard let file = fopen("/proc/cpuinfo", "r") else { return nil }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            let text = String(cString: line!)
            if text.hasPrefix("flags") {
                return Set(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == ":" }))
            }
        }
        return nil
    }
}
