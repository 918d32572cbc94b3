// RadixServe: per-request sampling state (random stream, penalty counts, logit bias, min_tokens
// and the output constraint's automaton state).

import Scheduling
import ServingTypes
import StructuredOutput

/// What sampling remembers about one request between steps.
///
/// Each request owns its random stream, so a seeded request draws the same numbers whatever
/// else shares its batches (and across retraction, since tokens already emitted are never
/// re-sampled: the constraint state, kept here rather than in the scheduler, stays valid when
/// the request is retracted and re-prefilled). Not thread-safe: owned by the ``ModelRunner``.
///
/// Order of logits processing for one row: masks (constraint, `min_tokens`), which the reported
/// logprobs include, then logit bias and penalties, which they do not (see ``ModelRunner``).
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
    /// Tokens generated so far.
    private(set) var outputCount = 0
    /// End-of-sequence ids that end this request (none with `ignoreEOS`).
    private let eosTokenIDs: [Int32]
    /// Stop ids, sorted.
    private let stopTokenIDs: [Int32]
    /// `logit_bias` entries, sorted by token.
    private let logitBias: [(token: Int, bias: Float)]
    /// The compiled output constraint, if any, and the state of the output so far.
    let constraint: TokenConstraint?
    private(set) var constraintState: TokenConstraint.State = 0

    init(
        params: SamplingParams, promptTokenIDs: [Int32], fallbackSeed: UInt64, eosTokenIDs: Set<Int32> = [],
        constraint: TokenConstraint? = nil
    ) {
        self.params = params
        settings = SamplerSettings(
            temperature: Float(params.temperature),
            topK: max(0, params.topK),
            topP: Float(params.topP),
            minP: Float(params.minP))
        random = SeededRandom(seed: params.seed ?? fallbackSeed)
        self.eosTokenIDs = params.ignoreEOS ? [] : eosTokenIDs.sorted()
        stopTokenIDs = params.stopTokenIDs.sorted()
        logitBias = params.logitBias.map { (Int($0.key), $0.value) }.sorted { $0.token < $1.token }
        self.constraint = constraint
        if let constraint { constraintState = constraint.initialState }
        if usesRepetitionPenalty { seenTokens = Set(promptTokenIDs) }
    }

    var usesRepetitionPenalty: Bool { params.repetitionPenalty != 1 }
    var usesOutputPenalties: Bool { params.frequencyPenalty != 0 || params.presencePenalty != 0 }
    var hasPenalties: Bool { usesRepetitionPenalty || usesOutputPenalties }

    /// Whether `min_tokens` still masks end-of-sequence and stop tokens.
    private var masksTerminators: Bool {
        outputCount < params.minTokens && !(eosTokenIDs.isEmpty && stopTokenIDs.isEmpty)
    }

    /// True when this step's row is changed before sampling (constraint, bias, `min_tokens`), so
    /// neither the argmax shortcut nor a device's top-k may stand in for the full row.
    var adjustsLogits: Bool { constraint != nil || !logitBias.isEmpty || masksTerminators }

    /// True when the token is simply the argmax of the raw logits.
    var isPlainGreedy: Bool { settings.isGreedy && !hasPenalties && params.logprobs == nil && !adjustsLogits }

    /// Why a constrained request cannot start (the vocabulary cannot spell any output), or nil.
    func startProblem() -> String? {
        guard let constraint else { return nil }
        if let failure = constraint.failure { return failure }
        if constraint.allowsAnyToken(constraintState) || (constraint.isAccepting(constraintState) && !eosTokenIDs.isEmpty) {
            return nil
        }
        return "no token of the model's vocabulary can start an output that matches the constraint"
    }

    /// Replays output generated before this request was re-submitted (``EngineRequest/resumedOutputCount``)
    /// through the constraint and the output penalties; `min_tokens` counts only new tokens.
    /// - Returns: why the output cannot be resumed (it leaves the constraint's language), or nil.
    mutating func resume(after output: some Collection<Int32>) -> String? {
        for token in output {
            if usesOutputPenalties { outputCounts[token, default: 0] += 1 }
            guard let constraint else { continue }
            guard let next = constraint.advance(constraintState, token: token) else {
                return "the resumed output does not match the output constraint (token \(token))"
            }
            constraintState = next
        }
        return nil
    }

    /// Masks this request's row in place: under a constraint every token the automaton does not
    /// allow, end-of-sequence outside accepting states, and stop tokens unless they complete a
    /// match; then, while fewer than `min_tokens` were generated, end-of-sequence and stop tokens
    /// (unless the constraint leaves nothing else). Masked logits become -infinity.
    func applyMasks(_ logits: UnsafeMutableBufferPointer<Float>) {
        guard let constraint else {
            if masksTerminators {
                for token in eosTokenIDs where Int(token) < logits.count { logits[Int(token)] = -.infinity }
                for token in stopTokenIDs where Int(token) < logits.count { logits[Int(token)] = -.infinity }
            }
            return
        }
        let state = constraintState
        let allowed = constraint.allowedTokens(state)
        let isAccepting = constraint.isAccepting(state)
        // min_tokens yields when the constraint allows nothing but ending.
        let mayEnd = isAccepting && (outputCount >= params.minTokens || allowed.isEmpty)
        var saved: [(token: Int, value: Float)] = []
        // End-of-sequence ends the request whatever its bytes: only where the output may end.
        for token in eosTokenIDs where Int(token) < logits.count {
            saved.append((Int(token), mayEnd ? logits[Int(token)] : -.infinity))
        }
        if mayEnd {
            for token in stopTokenIDs where Int(token) < logits.count && constraint.vocabulary.bytes(of: Int(token)).isEmpty {
                saved.append((Int(token), logits[Int(token)]))
            }
        }
        Self.mask(logits, keeping: allowed)
        for (token, value) in saved { logits[token] = value }
        // A stop token with text ends the request: allow it only where it completes a match.
        for token in stopTokenIDs where Int(token) < logits.count && allowed.contains(Int(token)) {
            let completes = constraint.advance(state, token: token).map(constraint.isAccepting) ?? false
            if !completes || outputCount < params.minTokens { logits[Int(token)] = -.infinity }
        }
    }

    /// Sets every logit whose id is not in `allowed` to -infinity, 64 ids per bitset word.
    private static func mask(_ logits: UnsafeMutableBufferPointer<Float>, keeping allowed: TokenBitset) {
        let count = logits.count
        allowed.words.withUnsafeBufferPointer { words in
            var base = 0
            while base < count {
                let word = base >> 6 < words.count ? words[base >> 6] : 0
                let end = min(base + 64, count)
                if word == 0 {
                    for index in base..<end { logits[index] = -.infinity }
                } else if word != ~0 {
                    for index in base..<end where word & (1 << UInt64(index - base)) == 0 { logits[index] = -.infinity }
                }
                base = end
            }
        }
    }

    /// Applies this request's logit bias and penalties to its logits row in place.
    func applyPenalties(_ logits: UnsafeMutableBufferPointer<Float>) {
        for (token, bias) in logitBias where token < logits.count { logits[token] += bias }
        LogitsProcessor.applyRepetitionPenalty(logits, penalty: Float(params.repetitionPenalty), seen: seenTokens)
        LogitsProcessor.applyFrequencyAndPresencePenalties(
            logits, frequency: Float(params.frequencyPenalty), presence: Float(params.presencePenalty),
            counts: outputCounts)
    }

    /// Picks this request's next token from its logits row, already masked (``applyMasks(_:)``):
    /// the argmax when plain greedy, else bias and penalties (applied to `logits` in place), then
    /// `sampler` with the request's settings and random stream. The caller records the token.
    mutating func sample(_ logits: UnsafeMutableBufferPointer<Float>, using sampler: inout Sampler) -> Int32 {
        if isPlainGreedy { return Sampler.argmax(UnsafeBufferPointer(logits)) }
        applyPenalties(logits)
        return sampler.sample(UnsafeBufferPointer(logits), settings: settings, random: &random)
    }

    /// Samples from a device's top-k candidates of this request's row (largest first); only for
    /// requests without penalties, logprobs or logit adjustments, which are greedy or have a
    /// `top_k` of at most the candidates' count (``ModelRunner`` checks).
    mutating func sample(
        topCandidates ids: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>, using sampler: inout Sampler
    ) -> Int32 {
        sampler.sample(topCandidates: ids, values: values, settings: settings, random: &random)
    }

    /// Records a generated token (penalty counts, `min_tokens` progress, the constraint state)
    /// and says whether the request must end after it though no stop rule says so: `.stop` when
    /// the constraint's match is complete, nothing may follow and no end-of-sequence token can
    /// be sampled; `.error` when the vocabulary cannot continue the match or the automaton
    /// outgrew its limit. Looking ahead here computes (and caches) the next step's mask.
    mutating func record(_ token: Int32) -> FinishReason? {
        if usesRepetitionPenalty { seenTokens.insert(token) }
        if usesOutputPenalties { outputCounts[token, default: 0] += 1 }
        outputCount += 1
        guard let constraint else { return nil }
        if eosTokenIDs.contains(token) || stopTokenIDs.contains(token) && constraint.vocabulary.bytes(of: Int(token)).isEmpty {
            return nil  // the stop rule ends the request
        }
        guard let next = constraint.advance(constraintState, token: token) else {
            return .error(message: "the engine sampled token \(token), which the output constraint does not allow")
        }
        constraintState = next
        if stopTokenIDs.contains(token) { return nil }
        let canContinue = constraint.allowsAnyToken(next)
        if let failure = constraint.failure { return .error(message: failure) }
        if canContinue { return nil }
        guard constraint.isAccepting(next) else {
            return .error(message: "no token of the model's vocabulary continues the constrained output")
        }
        return eosTokenIDs.isEmpty ? .stop(tokenID: token) : nil
    }
}
