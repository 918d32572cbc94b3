/// Broad device classes, used for reporting and defaults.
public enum DeviceKind: String, Sendable, Hashable {
    case cpu
    case gpu
    case accelerator
}

/// A physical or virtual device: cheap to query, safe to share between threads.
/// Shaped after ggml's backend device: it describes itself and makes backends (execution streams).
public protocol ComputeDevice: Sendable {
    /// Short unique name used on the command line, e.g. `cpu`, `reference`.
    var name: String { get }
    /// Device class.
    var kind: DeviceKind { get }
    /// Capabilities as data, read before a model or KV cache is built for the device.
    var capabilities: DeviceCapabilities { get }
    /// Free and total memory in bytes.
    func memoryInfo() -> (free: Int, total: Int)
    /// Pure predicate: whether backends of this device run `op`.
    func supports(_ op: OpDescriptor) -> Bool
    /// Makes an execution stream using up to `threads` threads (0 = device default).
    func makeBackend(threads: Int) throws -> any ComputeBackend
}

extension ComputeDevice {
    /// Whether every op runs with weights of `dtype`.
    public func supportsAllOps(weightDType dtype: DType) -> Bool {
        OpKind.allCases.allSatisfy { supports(OpDescriptor($0, weightDType: dtype)) }
    }
}
