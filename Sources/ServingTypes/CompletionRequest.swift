// RadixServe: the body of POST /v1/completions.

/// A `POST /v1/completions` body (OpenAI's legacy completions API), as the client encodes it and
/// the router decodes it.
///
/// Encoding sends `stream` always, `stream_options.include_usage` only on a stream that wants
/// usage, and `logprobs`, `echo` and `return_token_ids` only when set, so servers without
/// RadixServe's extensions accept the body.
public struct CompletionRequest: Codable, Sendable, Hashable {
    /// A completion prompt: text, or token ids the server feeds to the model unchanged.
    public enum Prompt: Codable, Sendable, Hashable {
        case text(String)
        case tokenIDs([Int])

        /// Accepts a string, an array of token ids, or a one-element array of either (one prompt
        /// per request).
        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else if let tokens = try? container.decode([Int].self) {
                self = .tokenIDs(tokens)
            } else if let texts = try? container.decode([String].self), texts.count == 1 {
                self = .text(texts[0])
            } else if let lists = try? container.decode([[Int]].self), lists.count == 1 {
                self = .tokenIDs(lists[0])
            } else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription:
                        "expected a string, an array of token ids, or a one-element array of either (one prompt per request)")
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .tokenIDs(let ids): try container.encode(ids)
            }
        }
    }

    /// The served model name; omitted when nil (the server picks its only model).
    public var model: String?
    public var prompt: Prompt
    /// Sampling and stopping fields, flattened into the body.
    public var sampling: SamplingFields
    /// Stream the answer as Server-Sent Events.
    public var stream: Bool
    /// `stream_options.include_usage`: end a stream with a usage-only chunk. Decoded bodies have it
    /// only when sent; ``init(model:prompt:sampling:logprobs:returnTokenIDs:)`` turns it on.
    public var includeUsage: Bool
    /// Top log-probabilities to return per token (`logprobs`, legacy completions form).
    public var logprobs: Int?
    /// Prepend the prompt's text to the answer.
    public var echo: Bool
    /// Return the generated token ids on each choice (`return_token_ids`, a vLLM extension).
    public var returnTokenIDs: Bool
    /// Admission priority in the router's queue (higher first; default 0). A RadixServe extension
    /// named as SGLang names it.
    public var priority: Int?

    /// Creates a request that does not stream yet, asking for usage when it does.
    public init(
        model: String?, prompt: Prompt, sampling: SamplingFields, logprobs: Int? = nil, returnTokenIDs: Bool = false
    ) {
        self.model = model
        self.prompt = prompt
        self.sampling = sampling
        stream = false
        includeUsage = true
        self.logprobs = logprobs
        echo = false
        self.returnTokenIDs = returnTokenIDs
    }

    enum CodingKeys: String, CodingKey {
        case model, prompt, stream, logprobs, echo
        case streamOptions = "stream_options"
        case returnTokenIDs = "return_token_ids"
        case priority
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        prompt = try container.decode(Prompt.self, forKey: .prompt)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        includeUsage = try container.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)?.includeUsage ?? false
        logprobs = try container.decodeIfPresent(Int.self, forKey: .logprobs)
        echo = try container.decodeIfPresent(Bool.self, forKey: .echo) ?? false
        returnTokenIDs = try container.decodeIfPresent(Bool.self, forKey: .returnTokenIDs) ?? false
        priority = try container.decodeIfPresent(Int.self, forKey: .priority)
        sampling = try SamplingFields(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(model, forKey: .model)
        try container.encode(prompt, forKey: .prompt)
        try sampling.encode(to: encoder)
        try container.encode(stream, forKey: .stream)
        if stream && includeUsage { try container.encode(StreamOptions(includeUsage: true), forKey: .streamOptions) }
        try container.encodeIfPresent(logprobs, forKey: .logprobs)
        if echo { try container.encode(true, forKey: .echo) }
        if returnTokenIDs { try container.encode(true, forKey: .returnTokenIDs) }
        try container.encodeIfPresent(priority, forKey: .priority)
    }
}

/// `stream_options`.
struct StreamOptions: Codable, Sendable {
    var includeUsage: Bool?
    enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
}
