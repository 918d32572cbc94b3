/// One message of a chat conversation.
public struct ChatMessage: Sendable, Codable, Equatable {
    /// `system`, `user` or `assistant`.
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }
}

/// A `POST /v1/chat/completions` body; the server renders the model's chat template.
public struct ChatCompletionRequest: Sendable, Encodable {
    /// The served model name; omitted when nil.
    public var model: String?
    public var messages: [ChatMessage]
    public var sampling: SamplingFields
    /// Set by the client, as for ``CompletionRequest/stream``.
    public var stream: Bool = false
    /// Ask for the final usage chunk of a stream; on by default.
    public var includeUsage: Bool = true

    public init(model: String?, messages: [ChatMessage], sampling: SamplingFields) {
        self.model = model
        self.messages = messages
        self.sampling = sampling
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: RequestKey.self)
        try container.encodeIfPresent(model, forKey: .model)
        try container.encode(messages, forKey: .messages)
        try sampling.encode(into: &container)
        try container.encode(stream, forKey: .stream)
        if stream && includeUsage {
            var options = container.nestedContainer(keyedBy: RequestKey.self, forKey: .streamOptions)
            try options.encode(true, forKey: .includeUsage)
        }
    }
}
