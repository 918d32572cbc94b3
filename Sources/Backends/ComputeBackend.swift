/// An execution stream on one device: allocates buffers and runs the forward-pass ops.
///
/// Owned by one thread (the engine thread); not thread-safe. Ops may run asynchronously; results
/// are visible to the host after ``synchronize()`` (and ``download(_:into:)``, which synchronizes).
/// Shapes are checked with preconditions: the model is responsible for passing consistent views.
/// All activations are f32; `weight`/`table` operands may be any dtype the device supports.
public protocol ComputeBackend: AnyObject {
    /// The device this stream runs on.
    var device: any ComputeDevice { get }

    /// Allocates a zeroed buffer.
    func allocate(byteCount: Int, usage: BufferUsage) throws -> any DeviceBuffer

    /// Makes a weight buffer holding `bytes`. Devices that share host memory may borrow the
    /// memory without copying (keeping `owner` alive); others copy it to the device.
    func makeWeightBuffer(copying bytes: UnsafeRawBufferPointer, owner: AnyObject?) throws -> any DeviceBuffer

    /// Copies host bytes into `tensor`, which must be contiguous with `bytes.count` bytes.
    func upload(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor)

    /// Copies `tensor` (contiguous rows, f32) to host memory after finishing pending work.
    func download(_ tensor: Tensor, into bytes: UnsafeMutableRawBufferPointer)

    /// Hands the device the inputs of the next forward step (token ids, positions, slot mapping,
    /// page tables, sequence lengths, logit rows) in one call, before the step's first op; a
    /// device uploads them once here (SGLang's `init_forward_metadata`). The ops marked *step*
    /// read them until the next call.
    /// - Throws: ``BackendError`` when the device cannot take them (ids out of range, too many
    ///   rows) or failed earlier.
    func beginStep(_ inputs: StepInputs) throws

    /// Reports a failure of any op of the step not yet reported (a device that queues ops learns of
    /// failures after they returned). Called after the step's last op.
    func endStep() throws

    /// *Step*: `out[i, :] = table[tokenIDs[i], :]` widened to f32. Ids must be in range.
    func embedding(table: Tensor, out: Tensor)

    /// Lays out a matmul weight `[N, K]` the way this device's matmul reads it fastest (for example
    /// in column panels). The result keeps the logical shape and dtype but is only valid as the
    /// `weight` operand of ``matmul(_:weight:bias:out:)``; it may not be sliced or read otherwise.
    /// Devices without a preferred layout return `weight` itself (the default).
    func prepareMatmulWeight(_ weight: Tensor) throws -> Tensor

    /// `out = x · weightᵀ + bias` with x `[M, K]` f32, weight `[N, K]`, bias `[1, N]` f32, out `[M, N]`.
    func matmul(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor)

    /// For each row and each group of `weight.columns` consecutive columns `g`:
    /// `out_g = g / sqrt(mean(g²) + epsilon) * weight`. `out` may alias `x`.
    func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, out: Tensor)

    /// *Step*: row `i` of `out` (`[tokens, headDim]`) becomes `[cos(p·f₀)…cos(p·f_{d/2-1}), sin(p·f₀)…]·scale`
    /// with `p = positions[i]` and `f = inverseFrequencies`, computed in f32 like the reference.
    func ropeTable(inverseFrequencies: [Float], scale: Float, out: Tensor)

    /// Applies rotary embedding in place to every `headDim`-wide head of each row of `x`,
    /// using row `i` of `table` (from ``ropeTable(inverseFrequencies:scale:out:)``).
    /// Rotate-half layout: `(x₁, x₂) → (x₁·cos − x₂·sin, x₂·cos + x₁·sin)`.
    func rope(_ x: Tensor, table: Tensor, headDim: Int)

    /// Bytes one page of a cache of `spec` takes in this backend's layout and dtype: keys and
    /// values of every layer (`spec.pageCount` is ignored). The engine sizes its page pool from it.
    /// - Throws: ``BackendError`` `.missingCapability` when the device does not hold `spec.dtype`
    ///   or pages of `spec.pageSize` (``DeviceCapabilities``).
    func kvCacheBytesPerPage(_ spec: KVCacheSpec) throws -> Int

    /// Allocates a zeroed paged KV cache of `spec` in this backend's own layout, in exactly
    /// `spec.dtype`. Only this backend's ops read or write its memory.
    /// - Throws: ``BackendError`` `.missingCapability` as ``kvCacheBytesPerPage(_:)`` does, or
    ///   `.outOfMemory`.
    func makeKVCache(_ spec: KVCacheSpec) throws -> any KVCacheStorage

    /// *Step*: writes row `i` of `key`/`value` (`[tokens, kvHeads × headDim]`, f32) to slot
    /// `slotMapping[i]` (= page × pageSize + offset) of `layer`, converted to the cache's dtype
    /// (bf16 and f16 round to nearest even). `cache` must come from this backend's
    /// ``makeKVCache(_:)``.
    func storeKV(key: Tensor, value: Tensor, cache: any KVCacheStorage, layer: Int)

    /// *Step*: causal attention of `query` (`[tokens, heads × headDim]`) over the cache, per the
    /// step's ``StepInputs/attention``.
    /// Query head `h` reads KV head `h / (heads / kvHeads)`. Softmax of `scale · q·k`, with the
    /// stored keys and values as they are (already rounded to the cache's dtype) and f32 or
    /// wider arithmetic.
    func attention(query: Tensor, cache: any KVCacheStorage, layer: Int, scale: Float, out: Tensor)

    /// `out[i, j] = silu(x[i, j]) · x[i, j + out.columns]`.
    func siluMul(_ x: Tensor, out: Tensor)

    /// `out = x + y` elementwise; `out` may alias either input.
    func add(_ x: Tensor, _ y: Tensor, out: Tensor)

    /// *Step*: `out[i, :] = x[logitRows[i], :]`.
    func gatherRows(_ x: Tensor, out: Tensor)

    /// Waits for all submitted work.
    func synchronize()

    /// Host threads the backend computes with. Optional; defaults to 1.
    var threadCount: Int { get }

    /// The running totals of bytes this backend's calls move between host memory and its device,
    /// where it counts them (a device that does not share host memory; `radixserve certify`
    /// reports them per step). Optional; nil by default.
    var hostTransfers: HostTransferCounter? { get }

    /// Optional hook ``OptionalHooks/deviceArgmax``: `ids[r]` = the first column of row `r` of
    /// `logits` (f32) holding the row's maximum, after all submitted work.
    func argmax(_ logits: Tensor, into ids: UnsafeMutableBufferPointer<Int32>) throws

    /// Optional hook ``OptionalHooks/deviceTopK``: the `k` largest values of each row of `logits`
    /// (f32), largest first and equal values by lower column: `ids[r·k + j]`, `values[r·k + j]`
    /// (the logits as they are), after all submitted work. `k` is at most
    /// ``DeviceCapabilities/maxTopK``.
    func topK(
        _ logits: Tensor, k: Int, ids: UnsafeMutableBufferPointer<Int32>, values: UnsafeMutableBufferPointer<Float>
    ) throws

    /// Optional hook ``OptionalHooks/fusedNormMatmul``: `out = rmsNorm(x, normWeight, epsilon) ·
    /// weightᵀ + bias`, as ``rmsNorm(_:weight:epsilon:out:)`` then ``matmul(_:weight:bias:out:)``
    /// compute it (`weight` as matmul takes it), without writing the normalised rows anywhere core
    /// reads. Core calls it only where the device claims the hook.
    func rmsNormMatmul(_ x: Tensor, normWeight: Tensor, epsilon: Float, weight: Tensor, bias: Tensor?, out: Tensor)

    /// Optional hook ``OptionalHooks/deviceCommunicator``: an id for a new group, made by rank 0;
    /// the host sends it to the other ranks, which pass it to ``makeCommunicator(id:rank:worldSize:)``.
    func makeCommunicatorID() throws -> [UInt8]

    /// Optional hook ``OptionalHooks/deviceCommunicator``: this rank's end of the group of `id`.
    /// Every rank calls it; it may wait until all have.
    func makeCommunicator(id: [UInt8], rank: Int, worldSize: Int) throws -> any DeviceCommunicator

    /// Optional hook ``OptionalHooks/stepCapture``: after ``beginStep(_:)``, records the ops that
    /// follow instead of running them, until ``endCapture()``.
    func beginCapture() throws

    /// Ends a capture and returns the recorded step.
    func endCapture() throws -> any CapturedStep

    /// Runs a recorded step's ops in order, reading the inputs of the latest ``beginStep(_:)``,
    /// which must have the shape the step was captured with (token count, sequence count, logit
    /// rows).
    func replay(_ step: any CapturedStep) throws

    /// Optional hook ``OptionalHooks/batchInvariant``: switches this backend to kernels whose
    /// results for a row depend only on that row, for all later steps (deterministic mode). A
    /// device that claims the hook and always computes so needs nothing; the default implementation
    /// throws ``BackendError`` `.missingCapability` for a device that does not claim it.
    func enableBatchInvariance() throws

    /// Whether this backend's kernels are batch-invariant now (the default: whether the device
    /// claims ``OptionalHooks/batchInvariant``).
    var isBatchInvariant: Bool { get }

    /// Makes ``prepareMatmulWeight(_:)`` store the weights it lays out from now on as `scheme`
    /// (`--quantize`); called before the model loads. Optional: the default implementation accepts
    /// `.none` and throws ``BackendError`` `.missingCapability` naming the device for any other.
    func enableWeightQuantization(_ scheme: WeightQuantization) throws

    /// How ``prepareMatmulWeight(_:)`` stores weights now (default `.none`).
    var weightQuantization: WeightQuantization { get }
}

extension ComputeBackend {
    public var threadCount: Int { 1 }

    public func enableBatchInvariance() throws {
        guard device.capabilities.hooks.contains(.batchInvariant) else {
            throw BackendError(
                .missingCapability,
                "device '\(device.name)' cannot run deterministic mode: it does not claim batch-invariant kernels")
        }
    }

    public var isBatchInvariant: Bool { device.capabilities.hooks.contains(.batchInvariant) }

    public var weightQuantization: WeightQuantization { .none }

    public func enableWeightQuantization(_ scheme: WeightQuantization) throws {
        guard scheme == .none else {
            throw BackendError(.missingCapability, "device '\(device.name)' cannot quantize weights to \(scheme)")
        }
    }

    public var hostTransfers: HostTransferCounter? { nil }

    public func prepareMatmulWeight(_ weight: Tensor) throws -> Tensor { weight }

    public func endStep() throws {}

    public func argmax(_ logits: Tensor, into ids: UnsafeMutableBufferPointer<Int32>) throws {
        throw BackendError(.missingCapability, "device '\(device.name)' has no on-device argmax")
    }

    public func topK(
        _ logits: Tensor, k: Int, ids: UnsafeMutableBufferPointer<Int32>, values: UnsafeMutableBufferPointer<Float>
    ) throws {
        throw BackendError(.missingCapability, "device '\(device.name)' has no on-device top-k")
    }

    public func rmsNormMatmul(_ x: Tensor, normWeight: Tensor, epsilon: Float, weight: Tensor, bias: Tensor?, out: Tensor) {
        preconditionFailure("device '\(device.name)' does not claim fused norm+matmul; core must not call it")
    }

    public func makeCommunicatorID() throws -> [UInt8] {
        throw BackendError(.missingCapability, "device '\(device.name)' has no device communicator")
    }

    public func makeCommunicator(id: [UInt8], rank: Int, worldSize: Int) throws -> any DeviceCommunicator {
        throw BackendError(.missingCapability, "device '\(device.name)' has no device communicator")
    }

    public func beginCapture() throws {
        throw BackendError(.missingCapability, "device '\(device.name)' has no step capture")
    }

    public func endCapture() throws -> any CapturedStep {
        throw BackendError(.missingCapability, "device '\(device.name)' has no step capture")
    }

    public func replay(_ step: any CapturedStep) throws {
        throw BackendError(.missingCapability, "device '\(device.name)' has no step capture")
    }

    /// Allocates a contiguous f32 tensor.
    public func makeTensor(rows: Int, columns: Int, usage: BufferUsage = .compute) throws -> Tensor {
        let buffer = try allocate(byteCount: rows * columns * MemoryLayout<Float>.size, usage: usage)
        return Tensor(buffer: buffer, dtype: .f32, rows: rows, columns: columns)
    }

    /// Uploads an f32 array into a new contiguous tensor.
    public func makeTensor(_ values: [Float], rows: Int, columns: Int, usage: BufferUsage = .compute) throws -> Tensor {
        precondition(values.count == rows * columns, "value count does not match shape")
        let tensor = try makeTensor(rows: rows, columns: columns, usage: usage)
        values.withUnsafeBytes { upload($0, to: tensor) }
        return tensor
    }

    /// A weight tensor of `dtype` holding `values` (rounded to nearest for bf16 and f16), in a
    /// buffer of ``makeWeightBuffer(copying:owner:)``, as a checkpoint's weights would be.
    public func makeWeightTensor(_ values: [Float], rows: Int, columns: Int, dtype: DType) throws -> Tensor {
        precondition(values.count == rows * columns, "value count does not match shape")
        let bytes: [UInt8]
        switch dtype {
        case .f32: bytes = values.withUnsafeBytes { Array($0) }
        case .bf16: bytes = values.map(bf16FromFloat).withUnsafeBytes { Array($0) }
        case .f16: bytes = values.map { Float16($0).bitPattern }.withUnsafeBytes { Array($0) }
        }
        let buffer = try bytes.withUnsafeBytes { try makeWeightBuffer(copying: $0, owner: nil) }
        return Tensor(buffer: buffer, dtype: dtype, rows: rows, columns: columns)
    }

    /// Downloads an f32 tensor into a new array.
    public func read(_ tensor: Tensor) -> [Float] {
        [Float](unsafeUninitializedCapacity: tensor.elementCount) { buffer, count in
            download(tensor, into: UnsafeMutableRawBufferPointer(buffer))
            count = tensor.elementCount
        }
    }
}
