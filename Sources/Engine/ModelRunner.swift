// RadixServe: turns a scheduled batch into a forward pass and sampled tokens.
// Shape follows nano-vllm engine/model_runner.py (prepare → run → sample).

import Backends
import Models
import Scheduling
import ServingTypes
import StructuredOutput

/// Runs scheduled batches on a model (local or tensor-parallel leader) over a paged KV cache whose page ids are the
/// scheduler's ``KVPaging/PagePool`` ids, and samples one token per sampling entry.
///
/// Buffers (the forward batch, host logits, the sampled list and log-probabilities handed back in
/// each ``StepResult``) are kept between steps, so a steady-state step allocates only what the
/// scheduler hands over.
/// Not thread-safe: owned by the engine thread.
public final class ModelRunner {
    /// The model.
    public let model: any ForwardModel
    /// Tokens per KV page.
    public let pageSize: Int
    private let cache: any KVCacheStorage
    private var stepInputs = StepInputs()
    private var hostLogits: [Float] = []
    private var rawRow: [Float] = []
    private var sampler = Sampler()
    private var states: [RequestID: RequestSamplingState] = [:]
    private var seeds: SeededRandom
    /// The device's sampling hooks this runner may use (none with `usesDeviceSampling` off).
    private let deviceHooks: OptionalHooks
    private let maxTopK: Int
    // Reused storage of on-device sampling results.
    private var candidateIDs: [Int32] = []
    private var candidateValues: [Float] = []
    private var logitsBytes = 0

    // Reused storage of the results; each step hands them out in its ``StepResult``.
    private var sampled: [(requestID: RequestID, tokenID: Int32)] = []
    private var logprobs: [RequestID: TokenLogprobs] = [:]
    private var endings: [RequestID: FinishReason] = [:]
    /// End-of-sequence ids (masked by `min_tokens`, allowed by a constraint only where its match is complete).
    private let eosTokenIDs: Set<Int32>
    /// Compiled output constraints over the model's vocabulary; nil without a vocabulary.
    public let constraints: ConstraintCache?

    /// Has the model's backend allocate a KV cache of `spec` (whose page ids are the scheduler's)
    /// in its own layout. `seed` seeds requests that carry no seed of their own. With
    /// `usesDeviceSampling`, steps whose requests allow it sample through the device's argmax or
    /// top-k hook where it claims one, instead of downloading whole logits rows.
    /// `eosTokenIDs` are the ids that end generation; `vocabulary`, the token bytes that output
    /// constraints are compiled against (without it, constrained requests are refused).
    /// - Throws: ``Backends/BackendError`` when the device cannot hold `spec` or is out of memory.
    public init(
        model: any ForwardModel, cache spec: KVCacheSpec, seed: UInt64, usesDeviceSampling: Bool = true,
        eosTokenIDs: Set<Int32> = [], vocabulary: TokenVocabulary? = nil
    ) throws {
        self.model = model
        self.eosTokenIDs = eosTokenIDs
        constraints = vocabulary.map { ConstraintCache(vocabulary: $0) }
        self.pageSize = spec.pageSize
        cache = try model.backend.makeKVCache(spec)
        seeds = SeededRandom(seed: seed)
        let capabilities = model.backend.device.capabilities
        deviceHooks = usesDeviceSampling ? capabilities.hooks.intersection([.deviceArgmax, .deviceTopK]) : []
        maxTopK = capabilities.maxTopK
    }

    /// Starts tracking a request's sampling state (call once, before it is scheduled), compiling
    /// its output constraint (cached by the constraint's text).
    /// - Returns: why the request cannot run (no vocabulary, a constraint outside the supported
    ///   subset, or one the vocabulary cannot spell); it is then not tracked.
    public func register(_ request: EngineRequest) -> String? {
        var constraint: TokenConstraint?
        if let wanted = request.params.constraint {
            guard let constraints else {
                return "this worker has no tokenizer.json beside its checkpoint, so it cannot apply an output constraint"
            }
            do {
                constraint = try constraints.constraint(for: wanted)
            } catch {
                return error.message
            }
        }
        var state = RequestSamplingState(
            params: request.params, promptTokenIDs: request.promptTokenIDs, fallbackSeed: seeds.next(),
            eosTokenIDs: eosTokenIDs, constraint: constraint)
        let resumed = min(max(request.resumedOutputCount, 0), max(request.promptTokenIDs.count - 1, 0))
        if resumed > 0, let problem = state.resume(after: request.promptTokenIDs.suffix(resumed)) { return problem }
        if let problem = state.startProblem() { return problem }
        states[request.id] = state
        return nil
    }

    /// Stops tracking a finished request.
    public func forget(_ id: RequestID) {
        states[id] = nil
    }

    /// Runs `batch` and samples one token per sampling entry.
    /// Precondition: every entry's request was registered.
    public func run(_ batch: ScheduledBatch) throws -> StepResult {
        let start = ContinuousClock.now
        prepare(batch)
        let logits = try model.forward(stepInputs, cache: cache)
        let forwardEnd = ContinuousClock.now
        try sample(batch, logits: logits)
        return StepResult(
            sampled: sampled, logprobs: logprobs, forwardSeconds: (forwardEnd - start).seconds,
            samplingSeconds: (ContinuousClock.now - forwardEnd).seconds, logitsBytes: logitsBytes, endings: endings)
    }

    /// Fills the reused forward batch: one sequence per entry, logits for sampling entries.
    private func prepare(_ batch: ScheduledBatch) {
        stepInputs.removeAll()
        for entry in batch.entries {
            stepInputs.append(
                tokens: entry.tokenIDs, startPosition: entry.startPosition, pages: entry.pageTable,
                pageSize: pageSize, needsLogits: entry.shouldSample)
        }
    }

    /// Samples one token per sampling entry from the step's logits rows, in entry order: on the
    /// device when every row allows it (``deviceSamplingWidth(_:)``), else from the rows downloaded.
    private func sample(_ batch: ScheduledBatch, logits: Tensor) throws {
        sampled.removeAll(keepingCapacity: true)
        logprobs.removeAll(keepingCapacity: true)
        endings.removeAll(keepingCapacity: true)
        logitsBytes = 0
        guard logits.rows > 0 else { return }
        if let width = deviceSamplingWidth(batch) { return try sampleOnDevice(batch, logits: logits, width: width) }
        logitsBytes = logits.elementCount * MemoryLayout<Float>.size
        let vocabulary = logits.columns
        withHostLogits(logits) { host in
            var row = 0
            for entry in batch.entries where entry.shouldSample {
                let values = UnsafeMutableBufferPointer(rebasing: host[row * vocabulary..<(row + 1) * vocabulary])
                sampled.append((entry.requestID, sampleRow(values, for: entry.requestID)))
                row += 1
            }
        }
    }

    /// How many candidates per row the device must return for this step to be sampled from them
    /// exactly: 0 for argmax (every row plain greedy), k for top-k (every row greedy, or with a
    /// `top_k` the device can return); nil when a row needs the whole distribution (penalties,
    /// logprobs, logit bias, `min_tokens`, a constraint, no `top_k`) or the device claims no hook that fits.
    private func deviceSamplingWidth(_ batch: ScheduledBatch) -> Int? {
        guard !deviceHooks.isEmpty else { return nil }
        var width = 0
        for entry in batch.entries where entry.shouldSample {
            guard let state = states[entry.requestID], !state.hasPenalties, !state.adjustsLogits, state.params.logprobs == nil
            else { return nil }
            if state.settings.isGreedy { continue }
            guard state.settings.topK >= 1 && state.settings.topK <= maxTopK else { return nil }
            width = max(width, state.settings.topK)
        }
        if width == 0 && deviceHooks.contains(.deviceArgmax) { return 0 }
        return deviceHooks.contains(.deviceTopK) ? max(width, 1) : nil
    }

    /// Samples every row from the device's argmax (`width` 0) or its `width` largest logits.
    private func sampleOnDevice(_ batch: ScheduledBatch, logits: Tensor, width: Int) throws {
        let rows = logits.rows
        let count = rows * max(width, 1)
        if candidateIDs.count < count {
            candidateIDs = [Int32](repeating: 0, count: count)
            candidateValues = [Float](repeating: 0, count: count)
        }
        if width == 0 {
            try candidateIDs.withUnsafeMutableBufferPointer { try model.backend.argmax(logits, into: $0) }
            logitsBytes = rows * MemoryLayout<Int32>.size
        } else {
            try candidateIDs.withUnsafeMutableBufferPointer { ids in
                try candidateValues.withUnsafeMutableBufferPointer { values in
                    try model.backend.topK(logits, k: width, ids: ids, values: values)
                }
            }
            logitsBytes = count * (MemoryLayout<Int32>.size + MemoryLayout<Float>.size)
        }
        var row = 0
        for entry in batch.entries where entry.shouldSample {
            guard var state = states[entry.requestID] else {
                preconditionFailure("Invalid state: \(entry.requestID) was not registered")
            }
            let token: Int32
            if width == 0 {
                token = candidateIDs[row]
            } else {
                token = candidateIDs.withUnsafeBufferPointer { ids in
                    candidateValues.withUnsafeBufferPointer { values in
                        let span = row * width..<(row + 1) * width
                        return state.sample(
                            topCandidates: UnsafeBufferPointer(rebasing: ids[span]),
                            values: UnsafeBufferPointer(rebasing: values[span]), using: &sampler)
                    }
                }
            }
            if let ending = state.record(token) { endings[entry.requestID] = ending }
            states[entry.requestID] = state
            sampled.append((entry.requestID, token))
            row += 1
        }
    }

    /// Calls `body` with the step's logits, contiguous f32 rows in host memory that it may modify:
    /// the tensor itself where the backend's memory is host-visible (the logits are scratch, read
    /// only here), else a download.
    private func withHostLogits(_ logits: Tensor, _ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        if logits.dtype == .f32 && logits.isContiguous, let address = logits.hostAddress {
            model.backend.synchronize()
            body(UnsafeMutableBufferPointer(start: address.assumingMemoryBound(to: Float.self), count: logits.elementCount))
            return
        }
        if hostLogits.count < logits.elementCount {
            hostLogits = [Float](repeating: 0, count: logits.elementCount)
        }
        hostLogits.withUnsafeMutableBufferPointer { host in
            let rows = UnsafeMutableBufferPointer(rebasing: host[..<logits.elementCount])
            model.backend.download(logits, into: UnsafeMutableRawBufferPointer(rows))
            body(rows)
        }
    }

    /// Samples one request's token from its logits row (modified in place by masks, bias and
    /// penalties).
    private func sampleRow(_ values: UnsafeMutableBufferPointer<Float>, for id: RequestID) -> Int32 {
        guard var state = states[id] else { preconditionFailure("Invalid state: \(id) was not registered") }
        let topCount = state.params.logprobs
        state.applyMasks(values)
        // Logprobs describe the model's distribution over the tokens that could be sampled: after
        // the masks (constraint, min_tokens; masked tokens get -infinity), before logit bias,
        // penalties and temperature, as vLLM's default raw logprobs are taken after its grammar mask.
        if topCount != nil { rawRow.replaceSubrange(rawRow.indices, with: values) }
        let token = state.sample(values, using: &sampler)
        if let ending = state.record(token) { endings[id] = ending }
        if let topCount {
            logprobs[id] = rawRow.withUnsafeBufferPointer {
                LogitsProcessor.logprobs($0, chosen: token, topCount: topCount)
            }
        }
        states[id] = state
        return token
    }
}

extension Duration {
    /// The duration in seconds.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
