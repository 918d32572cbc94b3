import Backends
import CBLAS

#if canImport(Glibc)
import Glibc
#endif

/// The host CPU: OpenBLAS for large matrix products, SIMD Swift kernels for everything else, and a
/// persistent thread pool per backend. Its KV cache holds f32 or bf16 (``CPUKVCache``), with
/// attention reading bf16 directly.
public struct CPUDevice: ComputeDevice {
    public init() {}

    public var name: String { "cpu" }
    public var kind: DeviceKind { .cpu }

    public var capabilities: DeviceCapabilities {
        DeviceCapabilities(
            weightDTypes: Set(DType.allCases), kvCacheDTypes: CPUKVCache.dtypes, pageSizes: .any, sharesHostMemory: true,
            hasHostVisibleBuffers: true, maxThreads: Self.coreCount, hooks: [.batchInvariant])
    }

    public func memoryInfo() -> (free: Int, total: Int) { HostMemory.info() }

    public func supports(_ op: OpDescriptor) -> Bool { true }

    /// Makes a backend with its own thread pool of `threads` threads (0 = one per core).
    public func makeBackend(threads: Int) throws -> any ComputeBackend {
        guard threads >= 0 else { throw BackendError(.invalidArgument, "thread count must be ≥ 0, got \(threads)") }
        // Our pool parallelizes across output columns; OpenBLAS threads on top would oversubscribe the cores.
        openblas_set_num_threads(1)
        return CPUBackend(threadCount: threads == 0 ? Self.coreCount : threads)
    }

    /// Online processors.
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
