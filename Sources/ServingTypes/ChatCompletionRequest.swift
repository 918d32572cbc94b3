// RadixServe: the body of POST /v1/chat/completions.

/// A `POST /v1/chat/completions` body; the server renders the model's chat template.
///
/// Encoding follows ``CompletionRequest``: optional fields are sent only when set.
public struct ChatCompletionRequest: Codable, Sendable, Hashable {
    /// The served model name; omitted when nil.
    public var model: String?
    public var messages: [ChatMessage]
    /// Sampling and stopping fields, flattened into the body.
    public var sampling: SamplingFields
    /// Stream the answer as Server-Sent Events.
    public var stream: Bool
    /// `stream_options.include_usage`, as for ``CompletionRequest/includeUsage``.
    public var includeUsage: Bool
    /// Return log-probabilities (`logprobs: true`).
    public var logprobs: Bool
    /// With ``logprobs``, this many alternatives per token (`top_logprobs`).
    public var topLogprobs: Int?
    /// Return the generated token ids on each choice (`return_token_ids`).
    public var returnTokenIDs: Bool
    /// Admission priority in the router's queue, as for ``CompletionRequest/priority``.
    public var priority: Int?

    /// Creates a request that does not stream yet, asking for usage when it does.
    public init(
        model: String?, messages: [ChatMessage], sampling: SamplingFields, logprobs: Bool = false,
        topLogprobs: Int? = nil, returnTokenIDs: Bool = false
    ) {
        self.model = model
        self.messages = messages
        self.sampling = sampling
        stream = false
        includeUsage = true
        self.logprobs = logprobs
        self.topLogprobs = topLogprobs
        self.returnTokenIDs = returnTokenIDs
    }

    enum CodingKeys: String, CodingKey {
        case model, messages, stream, logprobs
        case streamOptions = "stream_options"
        case topLogprobs = "top_logprobs"
        case returnTokenIDs = "return_token_ids"
        case priority
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        messages = try container.decode([ChatMessage].self, forKey: .messages)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        includeUsage = try container.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)?.includeUsage ?? false
        logprobs = try container.decodeIfPresent(Bool.self, forKey: .logprobs) ?? false
        topLogprobs = try container.decodeIfPresent(Int.self, forKey: .topLogprobs)
        returnTokenIDs = try container.decodeIfPresent(Bool.self, forKey: .returnTokenIDs) ?? false
        priority = try container.decodeIfPresent(Int.self, forKey: .priority)
        sampling = try SamplingFields(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(model, forKey: .model)
        try container.encode(messages, forKey: .messages)
        try sampling.encode(to: encoder)
        try container.encode(stream, forKey: .stream)
        if stream && includeUsage { try container.encode(StreamOptions(includeUsage: true), forKey: .streamOptions) }
        if logprobs { try container.encode(true, forKey: .logprobs) }
        try container.encodeIfPresent(topLogprobs, forKey: .topLogprobs)
        if returnTokenIDs { try container.encode(true, forKey: .returnTokenIDs) }
        try container.encodeIfPresent(priority, forKey: .priority)
    }
}
