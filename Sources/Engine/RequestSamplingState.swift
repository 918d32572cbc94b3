// RadixServe: per-request sampling state (random stream and penalty counts).

import Scheduling
import ServingTypes

/// What sampling remembers about one request between steps.
///
/// Each request owns its random stream, so a seeded request draws the same numbers whatever
/// else shares its batches (and across retraction, since tokens already emitted are never
/// re-sampled). Not thread-safe: owned by the ``ModelRunner``.
struct RequestSamplingState {
    /// The request's parameters.
    let params: SamplingParams
    /// The sampler settings derived from ``params``.
    let settings: SamplerSettings
    /// The request's random stream.
    var random: SeededRandom
    /// Distinct prompt and output tokens (for the repetition penalty); empty when unused.
    var seenTokens: Set<Int32> = []
    /// Occurrences of each output token (for frequency/presence penalties); empty when unused.
    var outputCounts: [Int32: Int] = [:]

    init(params: SamplingParams, promptTokenIDs: [Int32], fallbackSeed: UInt64) {
        self.params = params
        settings = SamplerSettings(
            temperature: Float(params.temperature),
            topK: max(0, params.topK),
            topP: Float(params.topP),
            minP: Float(params.minP))
        random = SeededRandom(seed: params.seed ?? fallbackSeed)
        if usesRepetitionPenalty { seenTokens = Set(promptTokenIDs) }
    }

    var usesRepetitionPenalty: Bool { params.repetitionPenalty != 1 }
    var usesOutputPenalties: Bool { params.frequencyPenalty != 0 || params.presencePenalty != 0 }
    var hasPenalties: Bool { usesRepetitionPenalty || usesOutputPenalties }

    /// True when the token is simply the argmax of the raw logits.
    var isPlainGreedy: Bool { settings.isGreedy && !hasPenalties && params.logprobs == nil }

    /// Applies this request's penalties to its logits row in place.
    func applyPenalties(_ logits: UnsafeMutableBufferPointer<Float>) {
        LogitsProcessor.applyRepetitionPenalty(logits, penalty: Float(params.repetitionPenalty), seen: seenTokens)
        LogitsProcessor.applyFrequencyAndPresencePenalties(
            logits, frequency: Float(params.frequencyPenalty), presence: Float(params.presencePenalty),
            counts: outputCounts)
    }

    /// Picks this request's next token from its logits row: the argmax when plain greedy, else
    /// penalties (applied to `logits` in place), then `sampler` with the request's settings and random
    /// stream. Records the token for later penalties.
    mutating func sample(_ logits: UnsafeMutableBufferPointer<Float>, using sampler: inout Sampler) -> Int32 {
        if isPlainGreedy { return Sampler.argmax(UnsafeBufferPointer(logits)) }
        applyPenalties(logits)
        let token = sampler.sample(UnsafeBufferPointer(logits), settings: settings, random: &random)
        record(token)
        return token
    }

    /// Records a generated token.
    /// Samples from a device's top-k candidates of this request's row (largest first); only for
    /// requests without penalties or logprobs, which are greedy or have a `top_k` of at most the
    /// candidates' count (``ModelRunner`` checks).
    mutating func sample(
        topCandidates ids: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>, using sampler: inout Sampler
    ) -> Int32 {
        sampler.sample(topCandidates: ids, values: values, settings: settings, random: &random)
    }

    mutating func record(_ token: Int32) {
        if usesRepetitionPenalty { seenTokens.insert(token) }
        if usesOutputPenalties { outputCounts[token, default: 0] += 1 }
    }
}
