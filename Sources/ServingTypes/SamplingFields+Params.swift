// RadixServe: request fields to engine parameters, the one conversion.

extension SamplingFields {
    /// Largest number of stop strings a request may carry.
    public static let maxStopStrings = 16

    /// Most samples (`n`) one request may ask for.
    public static let maxChoices = 16

    /// The samples asked for (`n`, 1 when unset); valid once ``samplingParams(defaultMaxTokens:logprobs:logprobsName:namespace:constraint:)`` accepted the fields.
    public var choiceCount: Int { n ?? 1 }

    /// The validated engine parameters of these fields. Unset fields take OpenAI's defaults
    /// (`temperature` 1, `top_p` 1, penalties off); `max_tokens` takes `defaultMaxTokens`.
    ///
    /// - Parameters:
    ///   - defaultMaxTokens: the endpoint's output limit when none was sent.
    ///   - logprobs: top log-probabilities to return per token, `nil` for none.
    ///   - logprobsName: the request key that asked for `logprobs` (`top_logprobs` in chat,
    ///     `top_logprobs_num` in `/generate`); errors about it name this key.
    ///   - namespace: the prefix-cache namespace (the router derives it from ``cacheSalt``).
    ///   - constraint: what the output must match when the endpoint found one outside these fields
    ///     (`response_format`); with `regex` or `json_schema` also set, an error.
    /// - Throws: ``InvalidParameter`` naming the first offending field as the client sent it:
    ///   `n` outside 1...``maxChoices``, more than ``maxStopStrings`` stop strings, a stop token id outside
    ///   `0...Int32.max`, a `logit_bias` key that is not a token id, more than one constraint, or a
    ///   value outside the range ``SamplingParams/validate()`` allows.
    public func samplingParams(
        defaultMaxTokens: Int, logprobs: Int? = nil, logprobsName: String = "logprobs", namespace: UInt64 = 0,
        constraint: OutputConstraint? = nil
    ) throws(InvalidParameter) -> SamplingParams {
        if let n, !(1...Self.maxChoices).contains(n) {
            throw InvalidParameter(
                name: "n", value: "\(n)", allowed: "[1, \(Self.maxChoices)]",
                explanation: "n must be between 1 and \(Self.maxChoices) (got \(n))")
        }
        if stop.count > Self.maxStopStrings {
            throw InvalidParameter(
                name: "stop", value: "\(stop.count) strings", allowed: "at most \(Self.maxStopStrings)",
                explanation: "at most \(Self.maxStopStrings) stop strings are allowed (got \(stop.count))")
        }
        if let bad = stopTokenIDs.first(where: { $0 < 0 || $0 > Int(Int32.max) }) {
            throw InvalidParameter(
                name: "stop_token_ids", value: "\(bad)", allowed: "[0, \(Int32.max)]",
                explanation: "invalid stop_token_ids entry \(bad): must be a token id")
        }
        var bias: [Int32: Float] = [:]
        for (key, value) in logitBias {
            guard let token = Int32(key), token >= 0 else {
                throw InvalidParameter(
                    name: "logit_bias", value: key, allowed: "token ids",
                    explanation: "invalid logit_bias key '\(key)': must be a token id")
            }
            bias[token] = Float(value.isFinite ? value : .infinity)
        }
        let given = [constraint, regex.map(OutputConstraint.regex), jsonSchema.map(OutputConstraint.jsonSchema)].compactMap { $0 }
        if given.count > 1 {
            throw InvalidParameter(
                name: "response_format", value: "\(given.count) constraints", allowed: "one",
                explanation: "give one of response_format, regex and json_schema, not several")
        }
        let params = SamplingParams(
            maxTokens: maxTokens ?? defaultMaxTokens, temperature: temperature ?? 1, topK: topK ?? 0, topP: topP ?? 1,
            minP: minP ?? 0, seed: seed.map { UInt64(bitPattern: $0) }, frequencyPenalty: frequencyPenalty ?? 0,
            presencePenalty: presencePenalty ?? 0, repetitionPenalty: repetitionPenalty ?? 1,
            stopTokenIDs: Set(stopTokenIDs.map { Int32($0) }), ignoreEOS: ignoreEOS, logprobs: logprobs,
            namespace: namespace, logitBias: bias, minTokens: minTokens ?? 0, constraint: given.first)
        do {
            try params.validate()
        } catch {
            switch error.name {
            case "max_tokens": throw error.renamed(maxTokensName.rawValue)
            case "logprobs": throw error.renamed(logprobsName)
            default: throw error
            }
        }
        return params
    }
}
