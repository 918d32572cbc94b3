/// Optional parts of the accelerator contract a device may implement, declared in
/// ``DeviceCapabilities/hooks``. Core takes the host path for every hook not listed (host
/// sampling, socket collectives, eager ops), and uses a listed one only through its own seam.
public struct OptionalHooks: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// Greedy sampling on the device: one token id per row instead of a logits download.
    public static let deviceArgmax = OptionalHooks(rawValue: 1 << 0)
    /// The top-k candidates per row on the device, for host sampling over K values.
    public static let deviceTopK = OptionalHooks(rawValue: 1 << 1)
    /// All-reduce and all-gather through the device's own communicator.
    public static let deviceCommunicator = OptionalHooks(rawValue: 1 << 2)
    /// Recording a step shape's op sequence once and replaying it.
    public static let stepCapture = OptionalHooks(rawValue: 1 << 3)
    /// RMSNorm fused with the matmul that follows it (``ComputeBackend/rmsNormMatmul(_:normWeight:epsilon:weight:bias:out:)``).
    public static let fusedNormMatmul = OptionalHooks(rawValue: 1 << 4)
    /// Batch-invariant kernels: each row's results are bitwise independent of the other rows of
    /// the step, of their number and of how a prompt was chunked, so a request computes the same
    /// bits alone or batched, from the prefix cache or not (deterministic mode; a device may need
    /// ``ComputeBackend/enableBatchInvariance()`` to switch its kernels; no entry point in the C ABI).
    public static let batchInvariant = OptionalHooks(rawValue: 1 << 5)

    /// Every hook with its name, in bit order.
    public static let named: [(hook: OptionalHooks, name: String)] = [
        (.deviceArgmax, "on-device argmax"), (.deviceTopK, "on-device top-k"),
        (.deviceCommunicator, "device communicator"), (.stepCapture, "step capture"),
        (.fusedNormMatmul, "fused norm+matmul"), (.batchInvariant, "batch-invariant kernels"),
    ]

    /// The names of the hooks in this set, comma-separated (unknown bits as hexadecimal).
    public var description: String {
        var names = Self.named.filter { contains($0.hook) }.map(\.name)
        let unknown = subtracting(Self.named.reduce(into: OptionalHooks()) { $0.formUnion($1.hook) })
        if !unknown.isEmpty { names.append("0x" + String(unknown.rawValue, radix: 16)) }
        return names.joined(separator: ", ")
    }
}
