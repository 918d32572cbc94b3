// RadixServe: how far each op's output may be from the reference's, per op and dtype, and why.

import Backends

/// The ops the ops section certifies, named as the checks are (`matmul.bf16.prefill-rows`).
enum CertifiedOp: String, CaseIterable {
    case embedding, gatherRows = "gather-rows", add, siluMul = "silu-mul", ropeTable = "rope-table", rope
    case rmsNorm = "rms-norm", matmul, attention, fusedNormMatmul = "fused-norm-matmul"
}

/// The largest difference from the reference one op's f32 output may show.
///
/// Judged per element: the relative error `|got − want| / max(1, |want|)` against ``relative(length:)``,
/// the absolute error against ``absolute`` where set, and the ULP distance against ``ulp`` where set
/// (only where the absolute error exceeds ``ulpFloor``; ``ErrorMeasure``).
struct ErrorBudget: Equatable {
    /// How the relative budget grows with the length `n` of the op's reductions.
    enum Growth: Equatable {
        /// Fixed.
        case none
        /// `× max(1, n / 256)`: summation in any order, including one f32 accumulator over all
        /// `n` terms, whose error grows about linearly with `n` on these inputs.
        case linear
        /// `× max(1, √(n / 256))`: sums of positive terms, whose relative error grows like `√n`.
        case squareRoot
    }

    /// Largest relative error for reductions of up to 256 terms (and for ops without reductions).
    var relative: Float
    var growth: Growth = .none
    /// Largest absolute error, where it is judged (0 for bit-exact ops).
    var absolute: Float?
    /// Largest ULP distance, where it is judged.
    var ulp: UInt32?
    /// Elements whose absolute error is at most this are not held to ``ulp``.
    var ulpFloor: Float = 0

    /// The relative budget for reductions of `length` terms.
    func relative(length: Int) -> Float {
        let scale = max(1, Float(length) / 256)
        return switch growth {
        case .none: relative
        case .linear: relative * scale
        case .squareRoot: relative * scale.squareRoot()
        }
    }

    /// The same bits: the op moves or widens values, or rounds once as IEEE 754 prescribes.
    static let exact = ErrorBudget(relative: 0, absolute: 0, ulp: 0)

    /// The budget of `op` with weights (or, for attention, a KV cache) of `dtype`, from ``table``.
    static func of(_ op: CertifiedOp, dtype: DType) -> ErrorBudget {
        guard let row = table.first(where: { $0.op == op && $0.dtypes.contains(dtype) }) else {
            preconditionFailure("no error budget for \(op.rawValue) with \(dtype)")
        }
        return row.budget
    }

    /// Every op's budget by dtype. Every dtype of an op has the same budget: bf16 and f16 weights
    /// widen exactly to f32 on both sides, so both compute over the same values and only the order
    /// of summation differs; a bf16 or f16 KV cache is compared with the reference attending over
    /// the keys and values rounded the same way (``OpCertification``), so again only the arithmetic
    /// differs. Inputs are uniform in [−1, 1] unless a check says otherwise; u = 2⁻²⁴ ≈ 6e-8 is the
    /// unit roundoff of f32.
    static let table: [(op: CertifiedOp, dtypes: [DType], budget: ErrorBudget)] = [
        // Embedding widens table rows to f32, which is exact for f32, bf16 and f16.
        (.embedding, DType.allCases, .exact),
        // Gathering rows copies them.
        (.gatherRows, [.f32], .exact),
        // x + y rounds once to nearest even in IEEE 754: every device gives the same bits, with
        // `out` aliasing `x` or not.
        (.add, [.f32], .exact),
        // silu(g)·u = g / (1 + e^−g) · u. Only exp differs between libraries: a faithful f32 exp is
        // within 1–2 ulp, the CPU device's polynomial within 2e-7 (≈ 3.4 ulp); 1 + e^−g passes at
        // most that relative error on, and the add, division and product round once each (½ ulp),
        // so ≤ 5 ulp. Budget 8 ulp. Below the smallest normal f32 the ULP count measures only
        // whether the device flushes subnormals to zero, so those results are not counted.
        (.siluMul, [.f32], ErrorBudget(relative: 1e-6, ulp: 8, ulpFloor: .leastNormalMagnitude)),
        // cos(p·f)·scale and sin(p·f)·scale of the same f32 angle p·f (the contract fixes an f32
        // product): a faithful sinf/cosf is within 1–2 ulp of the exact value, with full argument
        // reduction at large positions, and the scale rounds once. Budget 4 ulp. Near a zero of sin
        // or cos a library may be accurate only to about ulp(1) = 2⁻²³ absolutely, so errors below
        // 2⁻²³ are not counted in ULPs; a poor reduction at position 500 000 is off by ~1e-2.
        (.ropeTable, [.f32], ErrorBudget(relative: 2.4e-7, ulp: 4, ulpFloor: 0x1p-23)),
        // x₁·cos − x₂·sin (and x₂·cos + x₁·sin) over the same table: two products and a sum, which
        // a device may fuse (FMA) or round one by one as the reference does. Each side is within
        // u·(|x₁·cos| + |x₂·sin| + |result|) ≤ 3.5u of the exact value, so they differ by at most
        // 7u ≈ 4.2e-7 absolutely: budget 2⁻²¹ ≈ 4.8e-7. ULPs are reported, not judged: where the two
        // products cancel, that absolute error is any number of ulps of the small result.
        (.rope, [.f32], ErrorBudget(relative: 0x1p-21)),
        // g / √(mean(g²) + ε) · w over groups of n: the mean of n positive squares is within about
        // √n·u relative in any summation order (measured 8.5e-7 at n = 257, 3.8e-6 at 4096 with one
        // f32 accumulator), the square root halves that, and three roundings follow. Inputs are
        // uniform in [−3, 3], so outputs reach about 1.7. Budget 1e-5 up to 256, growing as √n.
        (.rmsNorm, DType.allCases, ErrorBudget(relative: 1e-5, growth: .squareRoot)),
        // A dot product of K terms: the only difference is the order of summation. One f32
        // accumulator over all K terms (a simple GPU kernel's order) leaves a random walk of K
        // roundings of partial sums of size ~√K/3: measured 4.9e-6 at K = 257, 1.7e-5 at 1024 and
        // 3.9e-5 at 4096 (maximum over 4 000 outputs, relative to max(1, |want|)); eight lanes then
        // a tree, 2.4e-6 at 257. Budget 2e-5 up to K = 256, growing linearly with K: 4× above the
        // single accumulator, and 50× below an error of 1e-3 in one output, which it must catch.
        (.matmul, DType.allCases, ErrorBudget(relative: 2e-5, growth: .linear)),
        // Softmax(scale·q·k)·v over a context of T tokens, the reference in f64. The scores are dot
        // products of headDim terms (|q| ≤ 2, |k| ≤ 1, scale 1/√headDim: scores of order 1, off by
        // about u·headDim·scale ≈ 7e-7 at headDim 128 with one accumulator), exp differs by a few
        // ulp, and the weights move relatively by both; the output is a convex combination of
        // values |v| ≤ 1 whose partial sums stay below 1, off by at most T·u (1.5e-5 at T = 256),
        // ~√T·u in practice. So about 1e-6 for a plain f32 kernel (the CPU device: 2.7e-7).
        // Budget 1e-5 up to 256 terms (the longer of headDim and T), growing linearly.
        (.attention, DType.allCases, ErrorBudget(relative: 1e-5, growth: .linear)),
        // rmsNorm then matmul, fused: the device may keep the normalised rows in registers instead
        // of rounding them to f32 (u relative per input, absorbed by the matmul budget), then the
        // K-term dot product as matmul. Inputs of the norm are uniform in [−3, 3], normalised rows
        // have |x| ≤ 1.7, so the partial sums are larger than matmul's by that factor: budget 4e-5.
        (.fusedNormMatmul, DType.allCases, ErrorBudget(relative: 4e-5, growth: .linear)),
    ]
}
