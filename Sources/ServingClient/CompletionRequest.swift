/// A `POST /v1/completions` body.
public struct CompletionRequest: Sendable, Encodable {
    /// Text, or token ids the server feeds to the model unchanged.
    public enum Prompt: Sendable, Equatable {
        case text(String)
        case tokenIDs([Int])
    }

    /// The served model name; omitted when nil (the server picks its only model).
    public var model: String?
    public var prompt: Prompt
    public var sampling: SamplingFields
    /// Set by the client: ``RouterClient/complete(_:)`` sends `false`,
    /// ``RouterClient/streamCompletion(_:onText:)`` `true`.
    public var stream: Bool = false
    /// Ask for the final usage chunk of a stream (`stream_options.include_usage`); on by default.
    public var includeUsage: Bool = true
    /// Ask for the generated token ids on each choice (`return_token_ids`, a vLLM extension);
    /// sent only when true.
    public var returnTokenIDs: Bool = false

    public init(model: String?, prompt: Prompt, sampling: SamplingFields, returnTokenIDs: Bool = false) {
        self.model = model
        self.prompt = prompt
        self.sampling = sampling
        self.returnTokenIDs = returnTokenIDs
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: RequestKey.self)
        try container.encodeIfPresent(model, forKey: .model)
        switch prompt {
        case .text(let text): try container.encode(text, forKey: .prompt)
        case .tokenIDs(let ids): try container.encode(ids, forKey: .prompt)
        }
        try sampling.encode(into: &container)
        try container.encode(stream, forKey: .stream)
        if stream && includeUsage {
            var options = container.nestedContainer(keyedBy: RequestKey.self, forKey: .streamOptions)
            try options.encode(true, forKey: .includeUsage)
        }
        if returnTokenIDs { try container.encode(true, forKey: .returnTokenIDs) }
    }
}
