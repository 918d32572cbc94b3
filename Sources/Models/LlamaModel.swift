import Backends
import Foundation

/// A Llama-family decoder (Llama 1–3, Mistral, Qwen2, Qwen3) running on a ``ComputeBackend``.
///
/// One ``forward(_:cache:)`` call runs one engine step over any mix of prefill chunks and decode
/// tokens. Not thread-safe: owned by the engine thread, like its backend.
public final class LlamaModel {
    public let config: ModelConfig
    public let shard: TensorParallelShard
    public let backend: any ComputeBackend
    public let weights: ModelWeights
    private let workspace: ForwardWorkspace

    /// Sums a row-parallel partial result across the tensor-parallel group, in place.
    /// `nil` when the model is not sharded.
    public var allReduce: ((Tensor) throws -> Void)?
    /// Whether ``allReduce`` runs on the device (its own communicator), so a step that calls it
    /// can be captured.
    public var isAllReduceOnDevice = false

    /// Record decode steps once per row count and replay them, where the device claims
    /// ``Backends/OptionalHooks/stepCapture`` (on by default there). Prefill steps, whose shapes
    /// rarely repeat, and steps with a host all-reduce always run eagerly.
    public var usesStepCapture: Bool
    /// Whether the device fuses each norm with the projection after it
    /// (``Backends/OptionalHooks/fusedNormMatmul``).
    private let fusesNormMatmul: Bool
    /// Captured decode steps by row count.
    private var capturedSteps: [Int: any CapturedStep] = [:]
    /// Steps replayed from a capture, and captures made (for tests and statistics).
    public private(set) var stepCaptureCounts = (captured: 0, replayed: 0)

    /// The vocabulary ids whose logits ``forward(_:cache:)`` returns: all of them, or this rank's
    /// slice when the model was loaded with `isVocabParallel` (the group then gathers the slices).
    public let vocabularyRange: Range<Int>

    /// Largest number of new tokens in one step.
    public var maxStepTokens: Int { workspace.maxTokens }
    /// Largest number of logit rows in one step.
    public var maxLogitRows: Int { workspace.maxLogitRows }

    /// Loads `directory` (config.json + safetensors) for `shard`; see
    /// ``init(config:checkpoint:backend:shard:maxStepTokens:maxLogitRows:isVocabParallel:requirements:)``.
    public convenience init(
        directory: URL, backend: any ComputeBackend, shard: TensorParallelShard = .single,
        maxStepTokens: Int = 2048, maxLogitRows: Int = 256, requirements: DeviceRequirements = DeviceRequirements()
    ) throws {
        let config = try ModelConfig.load(directory: directory)
        let checkpoint = try Checkpoint(directory: directory)
        try self.init(config: config, checkpoint: checkpoint, backend: backend, shard: shard,
            maxStepTokens: maxStepTokens, maxLogitRows: maxLogitRows, requirements: requirements)
    }

    /// Loads `checkpoint` for `shard`. With `isVocabParallel`, lm_head is split by vocabulary rows
    /// (see ``TensorParallelShard/localVocabulary(_:)``) and logits cover ``vocabularyRange`` only.
    ///
    /// Before anything is loaded, checks the device's capabilities against the checkpoint's
    /// weight dtypes, `maxStepTokens` rows per step and `requirements` (the caller's KV cache dtype
    /// and page size, say).
    /// - Throws: ``Backends/BackendError`` `.missingCapability` naming the device and what it lacks.
    public init(
        config: ModelConfig, checkpoint: Checkpoint, backend: any ComputeBackend, shard: TensorParallelShard = .single,
        maxStepTokens: Int = 2048, maxLogitRows: Int = 256, isVocabParallel: Bool = false,
        requirements: DeviceRequirements = DeviceRequirements()
    ) throws {
        let weightDTypes = Set([DType.f32] + checkpoint.tensorNames.compactMap { try? checkpoint.tensorDType($0) })
        try backend.device.check(
            DeviceRequirements(weightDTypes: weightDTypes, rowsPerStep: maxStepTokens).merging(requirements))
        for dtype in weightDTypes {
            guard backend.device.supportsAllOps(weightDType: dtype) else {
                throw ModelError(.unsupportedDType, "backend '\(backend.device.name)' cannot compute with \(dtype) weights")
            }
        }
        self.config = config
        self.shard = shard
        self.backend = backend
        vocabularyRange = isVocabParallel ? shard.localVocabulary(config) : 0..<config.vocabularySize
        usesStepCapture = backend.device.capabilities.hooks.contains(.stepCapture)
        fusesNormMatmul = backend.device.capabilities.hooks.contains(.fusedNormMatmul)
        weights = try ModelWeights(
            config: config, checkpoint: checkpoint, shard: shard, backend: backend, isVocabParallel: isVocabParallel)
        // The weights are packed or copied now; what still reads the mapping in place (the
        // embedding table) faults its pages back in as it goes, so the checkpoint is not held twice.
        checkpoint.releaseResidentPages()
        workspace = try ForwardWorkspace(
            config: config, shard: shard, maxTokens: maxStepTokens, maxLogitRows: min(maxLogitRows, maxStepTokens),
            backend: backend, logitColumns: vocabularyRange.count)
    }

    /// Runs one step and returns the logits of `batch.logitRows` (a `[rows, vocab]` view into the
    /// workspace, valid until the next call). Writes the step's keys and values into `cache`.
    /// The device gets the step's inputs first (``Backends/ComputeBackend/beginStep(_:)``); a
    /// decode step of a row count seen before is replayed from its capture where the device
    /// records steps.
    public func forward(_ batch: StepInputs, cache: any KVCacheStorage) throws -> Tensor {
        let tokens = batch.tokenCount
        precondition(tokens > 0 && tokens <= workspace.maxTokens, "step of \(tokens) tokens exceeds the workspace")
        precondition(batch.logitRows.count <= workspace.maxLogitRows, "too many logit rows")
        try backend.beginStep(batch)
        let isDecode = batch.logitRows.count == tokens && batch.attention.sequenceCount == tokens
        let logits: Tensor
        if usesStepCapture && isDecode && (allReduce == nil || isAllReduceOnDevice) {
            if let step = capturedSteps[tokens] {
                logits = workspace.logits.rows(0, count: tokens)
                try backend.replay(step)
                stepCaptureCounts.replayed += 1
            } else {
                try backend.beginCapture()
                do {
                    logits = try runOps(batch, cache: cache)
                } catch {
                    _ = try? backend.endCapture()  // leave the device recording nothing
                    throw error
                }
                let step = try backend.endCapture()
                capturedSteps[tokens] = step
                stepCaptureCounts.captured += 1
                try backend.replay(step)
            }
        } else {
            logits = try runOps(batch, cache: cache)
        }
        try backend.endStep()
        return logits
    }

    /// Submits the step's ops (the device reads the step's inputs from ``forward(_:cache:)``'s
    /// `beginStep`) and returns the logits view.
    private func runOps(_ batch: StepInputs, cache: any KVCacheStorage) throws -> Tensor {
        let tokens = batch.tokenCount
        let b = backend
        let w = workspace
        let d = config.headDim
        let headWidth = shard.localHeads(config).count * d
        let kvWidth = shard.localKVHeads(config).count * d
        let hidden = w.hidden.rows(0, count: tokens)
        let normed = w.normed.rows(0, count: tokens)
        let qkv = w.qkv.rows(0, count: tokens)
        let query = qkv.columns(0, count: headWidth)
        let key = qkv.columns(headWidth, count: kvWidth)
        let value = qkv.columns(headWidth + kvWidth, count: kvWidth)
        let attention = w.attention.rows(0, count: tokens)
        let projected = w.projected.rows(0, count: tokens)
        let gateUp = w.gateUp.rows(0, count: tokens)
        let activated = w.activated.rows(0, count: tokens)
        let ropeTable = w.ropeTable.rows(0, count: tokens)

        b.embedding(table: weights.embedding, out: hidden)
        b.ropeTable(inverseFrequencies: config.rope.inverseFrequencies,
            scale: config.rope.attentionFactor, out: ropeTable)
        for (index, layer) in weights.layers.enumerated() {
            normMatmul(hidden, norm: layer.inputNorm, weight: layer.qkv, bias: layer.qkvBias, normed: normed, out: qkv)
            if let queryNorm = layer.queryNorm, let keyNorm = layer.keyNorm {
                b.rmsNorm(query, weight: queryNorm, epsilon: config.rmsNormEpsilon, out: query)
                b.rmsNorm(key, weight: keyNorm, epsilon: config.rmsNormEpsilon, out: key)
            }
            b.rope(query, table: ropeTable, headDim: d)
            b.rope(key, table: ropeTable, headDim: d)
            b.storeKV(key: key, value: value, cache: cache, layer: index)
            b.attention(query: query, cache: cache, layer: index, scale: config.attentionScale,
                out: attention)
            b.matmul(attention, weight: layer.output, bias: nil, out: projected)
            try allReduce?(projected)
            b.add(hidden, projected, out: hidden)
            normMatmul(hidden, norm: layer.postAttentionNorm, weight: layer.gateUp, bias: nil, normed: normed, out: gateUp)
            b.siluMul(gateUp, out: activated)
            b.matmul(activated, weight: layer.down, bias: nil, out: projected)
            try allReduce?(projected)
            b.add(hidden, projected, out: hidden)
        }
        let rows = batch.logitRows.count
        let last = w.lastHidden.rows(0, count: rows)
        let logits = w.logits.rows(0, count: rows)
        b.gatherRows(hidden, out: last)
        normMatmul(last, norm: weights.finalNorm, weight: weights.lmHead, bias: nil, normed: last, out: logits)
        return logits
    }

    /// `out = rmsNorm(x) · weightᵀ + bias`: one fused op where the device claims it, else the norm
    /// into `normed` and the matmul.
    private func normMatmul(_ x: Tensor, norm: Tensor, weight: Tensor, bias: Tensor?, normed: Tensor, out: Tensor) {
        if fusesNormMatmul {
            backend.rmsNormMatmul(x, normWeight: norm, epsilon: config.rmsNormEpsilon, weight: weight, bias: bias, out: out)
        } else {
            backend.rmsNorm(x, weight: norm, epsilon: config.rmsNormEpsilon, out: normed)
            backend.matmul(normed, weight: weight, bias: bias, out: out)
        }
    }
}

extension Checkpoint {
    /// The dtype of tensor `name`.
    func tensorDType(_ name: String) throws -> DType {
        try tensor(name, shape: nil).dtype
    }
}
