/// How a backend stores matmul weights once ``ComputeBackend/prepareMatmulWeight(_:)`` has laid
/// them out (`--quantize`).
public enum WeightQuantization: String, CaseIterable, Sendable, CustomStringConvertible {
    /// As the checkpoint has them (f32, bf16 or f16).
    case none
    /// 8-bit integers in blocks of 32 input features, one scale per block (max |w| / 127, as
    /// GGML's Q8_0); activations are quantized the same way per row on the fly, and each block's
    /// dot product is exact in integers.
    case int8

    public var description: String { rawValue }
}
