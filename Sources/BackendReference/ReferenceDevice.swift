import Backends

/// The naive, obviously correct device. Every other backend is tested against it.
/// Single-threaded, accumulates in `Double`; slow on purpose. Its KV cache is f32 only
/// (``ReferenceKVCache``): asking it for another KV dtype is refused, not converted.
public struct ReferenceDevice: ComputeDevice {
    public init() {}

    public var name: String { "reference" }
    public var kind: DeviceKind { .cpu }

    public var capabilities: DeviceCapabilities {
        DeviceCapabilities(
            weightDTypes: Set(DType.allCases), kvCacheDTypes: [.f32], pageSizes: .any, sharesHostMemory: true,
            hasHostVisibleBuffers: true, maxThreads: 1, hooks: [.deviceArgmax, .deviceTopK], maxTopK: 64)
    }

    public func memoryInfo() -> (free: Int, total: Int) { HostMemory.info() }

    public func supports(_ op: OpDescriptor) -> Bool { true }

    public func makeBackend(threads: Int) throws -> any ComputeBackend { ReferenceBackend() }
}
