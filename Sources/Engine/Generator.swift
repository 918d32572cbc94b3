import Backends
import Models
import Scheduling
import ServingTypes

/// The result of one generation.
public struct Generation: Sendable {
    public var promptTokenIDs: [Int32]
    public var tokenIDs: [Int32]
    public var finishReason: FinishReason
}

/// Errors of requests the engine cannot run.
public struct EngineError: Error, Hashable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Runs one sequence at a time over the paged cache: chunked prefill, then decode.
/// The simplest engine: the batched, continuously scheduled one builds on the same model calls.
/// Not thread-safe.
public final class Generator {
    public let model: any ForwardModel
    public let pageSize: Int
    public let maxContext: Int
    private let cache: KVCacheView
    private let pageTable: [Int32]
    private var batch = ForwardBatch()
    private var sampler = Sampler()
    /// End-of-sequence tokens of the model.
    public var eosTokenIDs: Set<Int32>

    public init(model: any ForwardModel, pageSize: Int = 16, maxContext: Int? = nil) throws {
        let context = min(maxContext ?? model.config.maxPositionEmbeddings, model.config.maxPositionEmbeddings)
        guard pageSize > 0, context > 0 else { throw EngineError("page size and context must be positive") }
        self.model = model
        self.pageSize = pageSize
        self.maxContext = context
        let pages = (context + pageSize - 1) / pageSize
        cache = try KVCache.make(config: model.config, shard: model.shard, pageCount: pages, pageSize: pageSize,
            backend: model.backend)
        pageTable = (0..<Int32(pages)).map { $0 }
        eosTokenIDs = Set(model.config.eosTokenIDs.map(Int32.init))
    }

    /// Generates from `prompt` with `params` (validated first; penalties, stop ids and seeds behave
    /// exactly as in the batched engine, through the same ``RequestSamplingState``), calling `onToken`
    /// with each new token as soon as it is sampled; `onToken` returns false to stop early.
    public func generate(
        prompt: [Int32], params: SamplingParams, onToken: (Int32) -> Bool = { _ in true }
    ) throws -> Generation {
        guard !prompt.isEmpty else { throw EngineError("the prompt is empty") }
        try params.validate()
        guard prompt.count < maxContext else {
            throw EngineError("the prompt has \(prompt.count) tokens; the context holds \(maxContext)")
        }
        for id in prompt where id < 0 || Int(id) >= model.config.vocabularySize {
            throw EngineError("token id \(id) is outside the vocabulary of \(model.config.vocabularySize)")
        }
        var state = RequestSamplingState(params: params, promptTokenIDs: prompt, fallbackSeed: 0)
        var output: [Int32] = []
        output.reserveCapacity(min(params.maxTokens, maxContext))
        var next = try prefill(prompt, state: &state)
        while true {
            output.append(next)
            let keepGoing = onToken(next)
            if params.stopTokenIDs.contains(next) || (!params.ignoreEOS && eosTokenIDs.contains(next)) {
                return Generation(promptTokenIDs: prompt, tokenIDs: output, finishReason: .stop(tokenID: next))
            }
            let length = prompt.count + output.count
            if output.count >= params.maxTokens || length >= maxContext || !keepGoing {
                return Generation(promptTokenIDs: prompt, tokenIDs: output, finishReason: .length)
            }
            next = try step(tokens: CollectionOfOne(next), start: length - 1, state: &state)
        }
    }

    private func prefill(_ prompt: [Int32], state: inout RequestSamplingState) throws -> Int32 {
        var start = 0
        while true {
            let end = min(prompt.count, start + model.maxStepTokens)
            let token = try step(tokens: prompt[start..<end], start: start, state: &state)
            if end == prompt.count { return token }
            start = end
        }
    }

    private func step(tokens: some Collection<Int32>, start: Int, state: inout RequestSamplingState) throws -> Int32 {
        let end = start + tokens.count
        batch.removeAll()
        batch.append(tokens: tokens, startPosition: start, pages: pageTable.prefix((end + pageSize - 1) / pageSize),
            pageSize: pageSize, needsLogits: true)
        let logits = try model.forward(batch, cache: cache)
        if hostLogits.count != logits.elementCount { hostLogits = [Float](repeating: 0, count: logits.elementCount) }
        hostLogits.withUnsafeMutableBytes { model.backend.download(logits, into: $0) }
        return hostLogits.withUnsafeMutableBufferPointer { state.sample($0, using: &sampler) }
    }

    private var hostLogits: [Float] = []
}
