/// The operations of a Llama-family forward pass. A backend must run every one it reports as
/// supported by ``ComputeDevice/supports(_:)``; the conformance suite checks each against `reference`.
public enum OpKind: String, Sendable, Hashable, CaseIterable {
    /// `out[i] = table[tokens[i]]` (table may be f32/f16/bf16; out is f32).
    case embedding
    /// `out = x · weightᵀ (+ bias)`, weight `[N, K]` of any weight dtype.
    case matmul
    /// RMSNorm over each group of `weight.columns` columns: Llama's norm and Qwen3's per-head q/k norm.
    case rmsNorm
    /// cos/sin table for the step's positions.
    case ropeTable
    /// Rotary embedding (rotate-half layout) applied in place to every head.
    case rope
    /// Writes the step's keys and values into their page slots.
    case storeKV
    /// Causal attention of the step's queries over the paged cache (prefill and decode alike).
    case attention
    /// `out = silu(gate) * up` where each input row is `[gate | up]`.
    case siluMul
    /// `out = x + y`.
    case add
    /// `out[i] = x[rows[i]]`.
    case gatherRows
}

/// What a device is asked about: an op and the dtype of its weight operand (if any).
public struct OpDescriptor: Sendable, Hashable, CustomStringConvertible {
    public var kind: OpKind
    public var weightDType: DType

    public init(_ kind: OpKind, weightDType: DType = .f32) {
        self.kind = kind
        self.weightDType = weightDType
    }

    public var description: String { "\(kind.rawValue)(\(weightDType))" }
}
