/// Element types of weights and tensors. Activations are always ``f32``; weights may be any of these.
public enum DType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    /// Bytes per element.
    @inlinable
    public var byteSize: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        }
    }

    public var description: String { rawValue.lowercased() }

    /// The dtype spelled `name` in any case (`f32`, `bf16`, `f16`, as ``description`` writes it), or `nil`.
    public init?(name: String) {
        self.init(rawValue: name.uppercased())
    }
}
