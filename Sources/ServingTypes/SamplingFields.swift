// RadixServe: the sampling and stopping fields of the OpenAI-compatible request bodies.

/// Sampling and stopping fields as they travel in `/v1/completions`, `/v1/chat/completions` and
/// `/generate`'s `sampling_params`: OpenAI's names plus the common extensions `top_k`, `min_p`,
/// `repetition_penalty`, `ignore_eos`, `stop_token_ids`, `cache_salt`, `min_tokens`, and SGLang's
/// `regex` and `json_schema`.
///
/// Every field is optional. ``samplingParams(defaultMaxTokens:logprobs:logprobsName:namespace:)``
/// applies the defaults and validates, the one conversion to ``SamplingParams``.
///
/// Decoding accepts `max_tokens`, `max_completion_tokens` and `max_new_tokens` (the first present
/// wins, remembered in ``maxTokensName``) and `stop` as a string or an array. Encoding leaves out
/// every field at its "off" value (`nil`, `top_p` 1, `top_k` 0, `min_p` 0, penalties 0 or 1,
/// `ignore_eos` false, no stop strings or ids), so the server's defaults apply and servers without
/// RadixServe's extensions accept the body.
public struct SamplingFields: Codable, Sendable, Hashable {
    /// The request keys that carry the output limit.
    public enum MaxTokensName: String, Codable, Sendable, Hashable, CaseIterable {
        /// OpenAI completions (and the chat API's older name).
        case maxTokens = "max_tokens"
        /// OpenAI chat completions.
        case maxCompletionTokens = "max_completion_tokens"
        /// SGLang's `/generate`.
        case maxNewTokens = "max_new_tokens"
    }

    /// Largest number of tokens to generate; `nil` takes the endpoint's default.
    public var maxTokens: Int?
    /// The key ``maxTokens`` was sent (or is encoded) as; errors about it name this key.
    public var maxTokensName: MaxTokensName
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var minP: Double?
    /// Sampling seed; the engine reads its bit pattern as an unsigned 64-bit seed.
    public var seed: Int64?
    public var frequencyPenalty: Double?
    public var presencePenalty: Double?
    public var repetitionPenalty: Double?
    /// Stop strings (at most 16); matched on the output text, which excludes them.
    public var stop: [String]
    /// Stop token ids (kept in the output).
    public var stopTokenIDs: [Int]
    /// Keep generating past end-of-sequence tokens (exact output lengths for benchmarks).
    public var ignoreEOS: Bool
    /// Number of choices; RadixServe serves exactly 1.
    public var n: Int?
    /// Requests with different salts never share cached prompt prefixes.
    public var cacheSalt: String?
    /// OpenAI `logit_bias`: token id (as a string key) → bias in `[-100, 100]`.
    public var logitBias: [String: Double]
    /// End-of-sequence and stop tokens are masked until this many tokens were generated.
    public var minTokens: Int?
    /// The output must match this regular expression in full (SGLang's `regex`).
    public var regex: String?
    /// The output must be JSON valid against this schema, given as JSON text (SGLang's `json_schema`
    /// as a string; the router reads an object-valued `json_schema` from the body in key order).
    public var jsonSchema: String?

    /// Creates fields; `nil` (or an "off" value) leaves a field to the server's default.
    public init(
        maxTokens: Int? = nil, maxTokensName: MaxTokensName = .maxTokens, temperature: Double? = nil,
        topP: Double? = nil, topK: Int? = nil, minP: Double? = nil, seed: Int64? = nil, stop: [String] = [],
        frequencyPenalty: Double? = nil, presencePenalty: Double? = nil, repetitionPenalty: Double? = nil,
        stopTokenIDs: [Int] = [], ignoreEOS: Bool = false, n: Int? = nil, cacheSalt: String? = nil,
        logitBias: [String: Double] = [:], minTokens: Int? = nil, regex: String? = nil, jsonSchema: String? = nil
    ) {
        self.logitBias = logitBias
        self.minTokens = minTokens
        self.regex = regex
        self.jsonSchema = jsonSchema
        self.maxTokens = maxTokens
        self.maxTokensName = maxTokensName
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
        self.seed = seed
        self.stop = stop
        self.frequencyPenalty = frequencyPenalty
        self.presencePenalty = presencePenalty
        self.repetitionPenalty = repetitionPenalty
        self.stopTokenIDs = stopTokenIDs
        self.ignoreEOS = ignoreEOS
        self.n = n
        self.cacheSalt = cacheSalt
    }

    enum CodingKeys: String, CodingKey {
        case temperature, seed, stop, n
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case maxNewTokens = "max_new_tokens"
        case topP = "top_p"
        case topK = "top_k"
        case minP = "min_p"
        case frequencyPenalty = "frequency_penalty"
        case presencePenalty = "presence_penalty"
        case repetitionPenalty = "repetition_penalty"
        case stopTokenIDs = "stop_token_ids"
        case ignoreEOS = "ignore_eos"
        case cacheSalt = "cache_salt"
        case logitBias = "logit_bias"
        case minTokens = "min_tokens"
        case regex
        case jsonSchema = "json_schema"

        init(_ name: MaxTokensName) {
            switch name {
            case .maxTokens: self = .maxTokens
            case .maxCompletionTokens: self = .maxCompletionTokens
            case .maxNewTokens: self = .maxNewTokens
            }
        }
    }

    /// Decodes the fields from the request object itself (they sit beside `prompt` or `messages`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        maxTokensName = .maxTokens
        maxTokens = nil
        for name in MaxTokensName.allCases {
            if let value = try container.decodeIfPresent(Int.self, forKey: CodingKeys(name)) {
                maxTokens = value
                maxTokensName = name
                break
            }
        }
        temperature = try container.decodeIfPresent(Double.self, forKey: .temperature)
        topP = try container.decodeIfPresent(Double.self, forKey: .topP)
        topK = try container.decodeIfPresent(Int.self, forKey: .topK)
        minP = try container.decodeIfPresent(Double.self, forKey: .minP)
        seed = try container.decodeIfPresent(Int64.self, forKey: .seed)
        frequencyPenalty = try container.decodeIfPresent(Double.self, forKey: .frequencyPenalty)
        presencePenalty = try container.decodeIfPresent(Double.self, forKey: .presencePenalty)
        repetitionPenalty = try container.decodeIfPresent(Double.self, forKey: .repetitionPenalty)
        stop = try container.decodeIfPresent(OneOrMany<String>.self, forKey: .stop)?.values ?? []
        stopTokenIDs = try container.decodeIfPresent([Int].self, forKey: .stopTokenIDs) ?? []
        ignoreEOS = try container.decodeIfPresent(Bool.self, forKey: .ignoreEOS) ?? false
        n = try container.decodeIfPresent(Int.self, forKey: .n)
        cacheSalt = try container.decodeIfPresent(String.self, forKey: .cacheSalt)
        logitBias = try container.decodeIfPresent([String: Double].self, forKey: .logitBias) ?? [:]
        minTokens = try container.decodeIfPresent(Int.self, forKey: .minTokens)
        regex = try container.decodeIfPresent(String.self, forKey: .regex)
        // An object-valued schema is left to the router, which reads it in key order.
        jsonSchema = try? container.decodeIfPresent(String.self, forKey: .jsonSchema)
    }

    /// Encodes the fields that are not at their "off" value into the request object.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(maxTokens, forKey: CodingKeys(maxTokensName))
        try container.encodeIfPresent(temperature, forKey: .temperature)
        if let topP, topP != 1 { try container.encode(topP, forKey: .topP) }
        if let topK, topK != 0 { try container.encode(topK, forKey: .topK) }
        if let minP, minP != 0 { try container.encode(minP, forKey: .minP) }
        try container.encodeIfPresent(seed, forKey: .seed)
        if !stop.isEmpty { try container.encode(stop, forKey: .stop) }
        if let frequencyPenalty, frequencyPenalty != 0 { try container.encode(frequencyPenalty, forKey: .frequencyPenalty) }
        if let presencePenalty, presencePenalty != 0 { try container.encode(presencePenalty, forKey: .presencePenalty) }
        if let repetitionPenalty, repetitionPenalty != 1 {
            try container.encode(repetitionPenalty, forKey: .repetitionPenalty)
        }
        if !stopTokenIDs.isEmpty { try container.encode(stopTokenIDs, forKey: .stopTokenIDs) }
        if ignoreEOS { try container.encode(true, forKey: .ignoreEOS) }
        try container.encodeIfPresent(n, forKey: .n)
        try container.encodeIfPresent(cacheSalt, forKey: .cacheSalt)
        if !logitBias.isEmpty { try container.encode(logitBias, forKey: .logitBias) }
        if let minTokens, minTokens != 0 { try container.encode(minTokens, forKey: .minTokens) }
        try container.encodeIfPresent(regex, forKey: .regex)
        try container.encodeIfPresent(jsonSchema, forKey: .jsonSchema)
    }
}

/// A JSON value that may be one element or an array of them (`stop`).
struct OneOrMany<Element: Decodable & Sendable>: Decodable, Sendable {
    var values: [Element]

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(Element.self) {
            values = [one]
        } else {
            values = try container.decode([Element].self)
        }
    }
}
