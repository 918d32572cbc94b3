/// The sampling and stopping fields shared by `/v1/completions` and `/v1/chat/completions`.
///
/// Fields left at their "off" value (`nil`, `topK` 0, `topP` 1, penalties 0 or 1, `ignoreEOS`
/// false, no stop strings) are not sent, so the server's defaults apply and servers without
/// RadixServe's extensions (`top_k`, `min_p`, `repetition_penalty`, `ignore_eos`) accept the body.
public struct SamplingFields: Sendable, Equatable {
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double
    public var topK: Int
    public var minP: Double
    public var seed: UInt64?
    public var stop: [String]
    public var frequencyPenalty: Double
    public var presencePenalty: Double
    public var repetitionPenalty: Double
    /// Keep generating past end-of-sequence tokens (exact output lengths for benchmarks).
    public var ignoreEOS: Bool
    /// Log-probabilities of this many top tokens per position (`logprobs`).
    public var logprobs: Int?

    public init(
        maxTokens: Int? = nil, temperature: Double? = nil, topP: Double = 1, topK: Int = 0, minP: Double = 0,
        seed: UInt64? = nil, stop: [String] = [], frequencyPenalty: Double = 0, presencePenalty: Double = 0,
        repetitionPenalty: Double = 1, ignoreEOS: Bool = false, logprobs: Int? = nil
    ) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
        self.seed = seed
        self.stop = stop
        self.frequencyPenalty = frequencyPenalty
        self.presencePenalty = presencePenalty
        self.repetitionPenalty = repetitionPenalty
        self.ignoreEOS = ignoreEOS
        self.logprobs = logprobs
    }

    func encode(into container: inout KeyedEncodingContainer<RequestKey>) throws {
        try container.encodeIfPresent(maxTokens, forKey: .maxTokens)
        try container.encodeIfPresent(temperature, forKey: .temperature)
        if topP != 1 { try container.encode(topP, forKey: .topP) }
        if topK != 0 { try container.encode(topK, forKey: .topK) }
        if minP != 0 { try container.encode(minP, forKey: .minP) }
        try container.encodeIfPresent(seed, forKey: .seed)
        if !stop.isEmpty { try container.encode(stop, forKey: .stop) }
        if frequencyPenalty != 0 { try container.encode(frequencyPenalty, forKey: .frequencyPenalty) }
        if presencePenalty != 0 { try container.encode(presencePenalty, forKey: .presencePenalty) }
        if repetitionPenalty != 1 { try container.encode(repetitionPenalty, forKey: .repetitionPenalty) }
        if ignoreEOS { try container.encode(true, forKey: .ignoreEOS) }
        try container.encodeIfPresent(logprobs, forKey: .logprobs)
    }
}

/// Every key of a completion or chat completion request body.
enum RequestKey: String, CodingKey {
    case model, prompt, messages, stream
    case streamOptions = "stream_options"
    case includeUsage = "include_usage"
    case returnTokenIDs = "return_token_ids"
    case maxTokens = "max_tokens"
    case temperature
    case topP = "top_p"
    case topK = "top_k"
    case minP = "min_p"
    case seed, stop, logprobs
    case frequencyPenalty = "frequency_penalty"
    case presencePenalty = "presence_penalty"
    case repetitionPenalty = "repetition_penalty"
    case ignoreEOS = "ignore_eos"
}
