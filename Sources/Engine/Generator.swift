import Backends
import Models
import RadixTree
import Scheduling

/// What a generation asks for.
public struct GenerationOptions: Sendable {
    public var maxTokens: Int
    public var sampler: SamplerSettings
    public var seed: UInt64
    /// Keep going past end-of-sequence tokens.
    public var ignoreEOS: Bool
    /// Tokens that end generation (besides the model's EOS, unless ignored).
    public var stopTokenIDs: Set<Int32>

    public init(maxTokens: Int = 64, sampler: SamplerSettings = .init(), seed: UInt64 = 0, ignoreEOS: Bool = false,
        stopTokenIDs: Set<Int32> = [])
    {
        self.maxTokens = maxTokens
        self.sampler = sampler
        self.seed = seed
        self.ignoreEOS = ignoreEOS
        self.stopTokenIDs = stopTokenIDs
    }
}

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

    /// Generates from `prompt`, calling `onToken` with each new token as soon as it is sampled;
    /// `onToken` returns false to stop early.
    public func generate(
        prompt: [Int32], options: GenerationOptions, onToken: (Int32) -> Bool = { _ in true }
    ) throws -> Generation {
        guard !prompt.isEmpty else { throw EngineError("the prompt is empty") }
        guard options.maxTokens >= 1 else { throw EngineError("max_tokens must be at least 1, got \(options.maxTokens)") }
        guard prompt.count < maxContext else {
            throw EngineError("the prompt has \(prompt.count) tokens; the context holds \(maxContext)")
        }
        for id in prompt where id < 0 || Int(id) >= model.config.vocabularySize {
            throw EngineError("token id \(id) is outside the vocabulary of \(model.config.vocabularySize)")
        }
        var random = SeededRandom(seed: options.seed)
        var output: [Int32] = []
        output.reserveCapacity(min(options.maxTokens, maxContext))
        var next = try prefill(prompt, options: options, random: &random)
        while true {
            output.append(next)
            let keepGoing = onToken(next)
            if options.stopTokenIDs.contains(next) || (!options.ignoreEOS && eosTokenIDs.contains(next)) {
                return Generation(promptTokenIDs: prompt, tokenIDs: output, finishReason: .stop(tokenID: next))
            }
            let length = prompt.count + output.count
            if output.count >= options.maxTokens || length >= maxContext || !keepGoing {
                return Generation(promptTokenIDs: prompt, tokenIDs: output, finishReason: .length)
            }
            next = try step(tokens: CollectionOfOne(next), start: length - 1, options: options, random: &random)
        }
    }

    private func prefill(_ prompt: [Int32], options: GenerationOptions, random: inout SeededRandom) throws -> Int32 {
        var start = 0
        while true {
            let end = min(prompt.count, start + model.maxStepTokens)
            let token = try step(tokens: prompt[start..<end], start: start, options: options, random: &random)
            if end == prompt.count { return token }
            start = end
        }
    }

    private func step(tokens: some Collection<Int32>, start: Int, options: GenerationOptions, random: inout SeededRandom) throws -> Int32 {
        let end = start + tokens.count
        batch.removeAll()
        batch.append(tokens: tokens, startPosition: start, pages: pageTable.prefix((end + pageSize - 1) / pageSize),
            pageSize: pageSize, needsLogits: true)
        let logits = try model.forward(batch, cache: cache)
        return try logitsRow(logits) { sampler.sample($0, settings: options.sampler, random: &random) }
    }

    private var hostLogits: [Float] = []

    private func logitsRow(_ logits: Tensor, _ body: (UnsafeBufferPointer<Float>) -> Int32) throws -> Int32 {
        if hostLogits.count != logits.elementCount { hostLogits = [Float](repeating: 0, count: logits.elementCount) }
        hostLogits.withUnsafeMutableBytes { model.backend.download(logits, into: $0) }
        return hostLogits.withUnsafeBufferPointer(body)
    }
}
