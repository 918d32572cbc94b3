import Backends

/// The fast CPU backend. Every op dispatches on dtype and shape once, then runs raw-pointer
/// kernels, split across the thread pool by output rows/columns (ggml's `ith/nth`).
///
/// Not thread-safe: one owning thread calls the ops. Steady-state decode allocates nothing: scratch
/// memory and work lists grow to the largest shape seen and are reused.
public final class CPUBackend: HostMemoryBackend {
    public var step = StepInputs()
    let pool: ThreadPool
    let scratch: [ScratchArena]
    /// The caller thread's copy of matrix–vector inputs in bf16 pair order.
    let permutedInput = ScratchArena()
    /// The caller thread's copy of matmul inputs in row groups (see ``packRowGroups(_:stride:rows:columns:kernels:into:)``).
    let packedInput = ScratchArena()
    /// The kernels of matmuls on packed weights and of decode attention: the best this CPU runs, or
    /// as tests set them.
    var kernels = CPUKernelSet.preferred
    var attentionItems: [AttentionItem] = []
    var sequenceGeometry: [SequenceGeometry] = []
    /// Sequences of the step's shared-prefix attention items, grouped (see ``planSharedPrefixes(_:)``).
    var sharedPrefixMembers: [Int32] = []
    /// Per sequence of the step: whether a shared-prefix item covers its decode row.
    var inSharedPrefixItem: [Bool] = []

    /// Whether every op computes each row in an order of operations that depends only on that row
    /// (deterministic mode, ``enableBatchInvariance()``): matmuls on packed weights run the panel
    /// kernel as always, whose per-row sums run over the input features in one fixed order for any
    /// row count; matmuls on unpacked weights run row by row (OpenBLAS's GEMM would block them
    /// differently for different row counts); attention takes every query row through the
    /// vector path (no shared-prefix items, whose sums depend on which sequences share pages, and
    /// no GEMM blocks, whose sums depend on the chunk). Norms, activations and element-wise ops are
    /// per row already.
    public private(set) var isBatchInvariant = false

    public func enableBatchInvariance() throws { isBatchInvariant = true }

    /// How ``prepareMatmulWeight(_:)`` stores the weights it lays out (`--quantize`).
    public private(set) var weightQuantization = WeightQuantization.none

    public func enableWeightQuantization(_ scheme: WeightQuantization) throws { weightQuantization = scheme }

    /// The caller thread's int8 copy of the inputs of matmuls on quantized weights: slot 0 the
    /// blocks, slot 1 their scales.
    let quantizedInput = ScratchArena()

    /// Rows at or below which matmul streams weights as matrix–vector products instead of GEMM.
    static let gemvMaxRows = 4
    /// Rows up to which f32 matmuls stream the weights with the batched matrix–vector kernel
    /// instead of OpenBLAS (whose per-call weight packing dominates at small row counts).
    static let batchedMatVecMaxRows = 32
    /// GEMM parts per thread (output-column slices of at least 16 columns).
    static let gemmPartsPerThread = 2
    /// Weight rows widened per block when f16/bf16 weights go through GEMM.
    static let widenBlockRows = 64
    /// Element count below which an elementwise op runs on the calling thread only.
    static let parallelElementThreshold = 32 * 1024

    init(threadCount: Int) {
        pool = ThreadPool(threadCount: threadCount)
        scratch = (0..<threadCount).map { _ in ScratchArena() }
    }

    /// Threads used by ops.
    public var threadCount: Int { pool.threadCount }

    public var device: any ComputeDevice { CPUDevice() }

    /// Runs `body(context, part, parts, thread)` with a pointer to `context`, over the pool in
    /// `partsPerThread` parts per thread when `elements` is large enough to pay for the dispatch,
    /// else as one part on the caller. `body` must capture nothing (see ``ThreadPool/Body``).
    @inline(__always)
    func parallel<Context>(
        elements: Int, partsPerThread: Int = 1, context: Context, _ body: @escaping ThreadPool.Body
    ) {
        withUnsafePointer(to: context) { pointer in
            let raw = UnsafeRawPointer(pointer)
            if elements < Self.parallelElementThreshold || pool.threadCount == 1 {
                body(raw, 0, 1, 0)
            } else {
                pool.run(parts: pool.threadCount * partsPerThread, context: raw, body)
            }
        }
    }
}

extension Tensor {
    /// Host pointer to the first f32 element.
    @inline(__always)
    var floats: UnsafeMutablePointer<Float> {
        precondition(dtype == .f32, "expected an f32 tensor")
        return hostAddress!.assumingMemoryBound(to: Float.self)
    }

    /// Host pointer to the first element, any dtype.
    @inline(__always)
    var raw: UnsafeRawPointer { UnsafeRawPointer(hostAddress!) }
}
