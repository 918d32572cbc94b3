// RadixServe: per-request sampling parameters, shared by the router, the wire codec, the worker,
// the engine and the client.

/// How to pick tokens for one request, and when to stop. OpenAI/SGLang semantics.
///
/// A plain value; ``validate()`` checks ranges once at admission so the sampler can trust them.
public struct SamplingParams: Hashable, Sendable {
    /// Maximum number of generated tokens. Range `1...`.
    public var maxTokens: Int
    /// Softmax temperature; `0` means greedy. Range `0...100`, finite.
    public var temperature: Double
    /// Keep the `topK` most likely tokens; `0` or `-1` disables. Range `-1...`.
    public var topK: Int
    /// Nucleus sampling mass. Range `(0, 1]`; `1` disables.
    public var topP: Double
    /// Drop tokens below `minP` times the top probability. Range `[0, 1]`; `0` disables.
    public var minP: Double
    /// Seed for reproducible sampling; `nil` uses the engine's generator.
    public var seed: UInt64?
    /// OpenAI frequency penalty. Range `[-2, 2]`.
    public var frequencyPenalty: Double
    /// OpenAI presence penalty. Range `[-2, 2]`.
    public var presencePenalty: Double
    /// Multiplicative repetition penalty (CTRL/HF style); `1` disables. Range `(0, 100]`.
    public var repetitionPenalty: Double
    /// Generation stops after any of these tokens (the token is kept). Non-negative ids.
    public var stopTokenIDs: Set<Int32>
    /// When true, the model's end-of-sequence tokens do not stop generation.
    public var ignoreEOS: Bool
    /// Number of top log-probabilities to return per token; `nil` returns none. Range `0...20`.
    public var logprobs: Int?
    /// Prefix-cache namespace (cache salt or adapter id); requests in different namespaces
    /// never share cached KV.
    public var namespace: UInt64
    /// Added to the logits of these tokens before sampling (OpenAI `logit_bias`). Values in `[-100, 100]`.
    public var logitBias: [Int32: Float]
    /// End-of-sequence and stop tokens are masked until this many tokens were generated. Range `0...maxTokens`.
    public var minTokens: Int
    /// What the output must match (structured outputs); nil: anything.
    public var constraint: OutputConstraint?

    /// Creates parameters; defaults follow the OpenAI API.
    public init(
        maxTokens: Int = 16,
        temperature: Double = 1,
        topK: Int = 0,
        topP: Double = 1,
        minP: Double = 0,
        seed: UInt64? = nil,
        frequencyPenalty: Double = 0,
        presencePenalty: Double = 0,
        repetitionPenalty: Double = 1,
        stopTokenIDs: Set<Int32> = [],
        ignoreEOS: Bool = false,
        logprobs: Int? = nil,
        namespace: UInt64 = 0,
        logitBias: [Int32: Float] = [:],
        minTokens: Int = 0,
        constraint: OutputConstraint? = nil
    ) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.seed = seed
        self.frequencyPenalty = frequencyPenalty
        self.presencePenalty = presencePenalty
        self.repetitionPenalty = repetitionPenalty
        self.stopTokenIDs = stopTokenIDs
        self.ignoreEOS = ignoreEOS
        self.logprobs = logprobs
        self.namespace = namespace
        self.logitBias = logitBias
        self.minTokens = minTokens
        self.constraint = constraint
    }

    /// True when sampling reduces to argmax.
    public var isGreedy: Bool { temperature == 0 || topK == 1 }

    /// Throws for the first out-of-range parameter, naming it and its allowed range.
    /// NaN and infinities are rejected everywhere.
    public func validate() throws(InvalidParameter) {
        func check(_ isValid: Bool, _ name: String, _ value: some Any, _ allowed: String) throws(InvalidParameter) {
            if !isValid { throw InvalidParameter(name: name, value: "\(value)", allowed: allowed) }
        }
        try check(maxTokens >= 1, "max_tokens", maxTokens, "[1, ∞)")
        try check(temperature.isFinite && (0...100).contains(temperature), "temperature", temperature, "[0, 100]")
        try check(topK >= -1, "top_k", topK, "{-1, 0} (disabled) or [1, ∞)")
        try check(topP.isFinite && topP > 0 && topP <= 1, "top_p", topP, "(0, 1]")
        try check(minP.isFinite && (0...1).contains(minP), "min_p", minP, "[0, 1]")
        try check(
            frequencyPenalty.isFinite && (-2...2).contains(frequencyPenalty), "frequency_penalty", frequencyPenalty,
            "[-2, 2]")
        try check(
            presencePenalty.isFinite && (-2...2).contains(presencePenalty), "presence_penalty", presencePenalty,
            "[-2, 2]")
        try check(
            repetitionPenalty.isFinite && repetitionPenalty > 0 && repetitionPenalty <= 100, "repetition_penalty",
            repetitionPenalty, "(0, 100]")
        if let negative = stopTokenIDs.first(where: { $0 < 0 }) {
            try check(false, "stop_token_ids", negative, "[0, ∞)")
        }
        if let logprobs {
            try check((0...20).contains(logprobs), "logprobs", logprobs, "[0, 20]")
        }
        try check(logitBias.count <= Self.maxLogitBiasEntries, "logit_bias", "\(logitBias.count) entries", "at most \(Self.maxLogitBiasEntries) entries")
        for (token, bias) in logitBias.sorted(by: { $0.key < $1.key }) {
            try check(token >= 0, "logit_bias", "token \(token)", "token ids [0, ∞)")
            try check(bias.isFinite && (-100...100).contains(bias), "logit_bias", "\(bias) for token \(token)", "[-100, 100]")
        }
        try check((0...maxTokens).contains(minTokens), "min_tokens", minTokens, "[0, max_tokens]")
        switch constraint {
        case .jsonSchema(let text), .regex(let text):
            try check(text.utf8.count <= OutputConstraint.maxTextBytes, "response_format", "\(text.utf8.count) bytes", "at most \(OutputConstraint.maxTextBytes) bytes")
        case .jsonObject, nil:
            break
        }
    }

    /// Most `logit_bias` entries one request may carry (OpenAI allows 300).
    public static let maxLogitBiasEntries = 1024
}

/// A request parameter outside its allowed range, named as clients spell it (`top_p`).
public struct InvalidParameter: Error, Hashable, Sendable, CustomStringConvertible {
    /// The parameter's API name.
    public var name: String
    /// The value that was sent.
    public var value: String
    /// A human-readable range, such as `(0, 1]`.
    public var allowed: String
    /// A message replacing the standard `invalid NAME VALUE: must be in ALLOWED`, for rules that
    /// are not a range (`n must be 1`).
    public var explanation: String?

    /// Creates an error.
    public init(name: String, value: String, allowed: String, explanation: String? = nil) {
        self.name = name
        self.value = value
        self.allowed = allowed
        self.explanation = explanation
    }

    public var description: String { explanation ?? "invalid \(name) \(value): must be in \(allowed)" }

    /// The same error for a parameter the client spelled `name`: an alias such as
    /// `max_completion_tokens`, or `top_logprobs` for the engine's `logprobs`.
    public func renamed(_ name: String) -> InvalidParameter {
        InvalidParameter(name: name, value: value, allowed: allowed, explanation: explanation)
    }
}
