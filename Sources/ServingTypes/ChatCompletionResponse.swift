// RadixServe: the response of POST /v1/chat/completions and its streamed chunks.

/// A `chat.completion` body, or a `chat.completion.chunk` of its stream: whole responses carry
/// ``Choice/message``, chunks ``Choice/delta``; the usage chunk has no choices.
///
/// Decoding is lenient in the same way as ``CompletionResponse``.
public struct ChatCompletionResponse: Codable, Sendable, Hashable {
    public var id: String?
    /// `chat.completion` or `chat.completion.chunk`.
    public var object: String
    /// Unix time of creation.
    public var created: Int?
    public var model: String?
    public var choices: [Choice]
    public var usage: Usage?

    public init(id: String?, object: String, created: Int?, model: String?, choices: [Choice], usage: Usage? = nil) {
        self.id = id
        self.object = object
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }

    /// One choice (RadixServe always sends index 0).
    public struct Choice: Codable, Sendable, Hashable {
        public var index: Int
        /// The whole answer, in a non-streamed response.
        public var message: ChatMessage?
        /// This chunk's part of the answer, in a stream.
        public var delta: Delta?
        /// Sent as `null` unless the request asked for log-probabilities.
        public var logprobs: ChatLogprobs?
        /// `stop`, `length`, …; `null` until the last chunk.
        public var finishReason: String?
        /// Generated token ids, when the request set `return_token_ids`.
        public var tokenIDs: [Int]?

        public init(
            index: Int = 0, message: ChatMessage? = nil, delta: Delta? = nil, logprobs: ChatLogprobs? = nil,
            finishReason: String? = nil, tokenIDs: [Int]? = nil
        ) {
            self.index = index
            self.message = message
            self.delta = delta
            self.logprobs = logprobs
            self.finishReason = finishReason
            self.tokenIDs = tokenIDs
        }

        /// The generated text this choice carries, whole or streamed.
        public var content: String { message?.content ?? delta?.content ?? "" }

        enum CodingKeys: String, CodingKey {
            case index, message, delta, logprobs
            case finishReason = "finish_reason"
            case tokenIDs = "token_ids"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            index = try container.decodeIfPresent(Int.self, forKey: .index) ?? 0
            message = try container.decodeIfPresent(ChatMessage.self, forKey: .message)
            delta = try container.decodeIfPresent(Delta.self, forKey: .delta)
            logprobs = try? container.decodeIfPresent(ChatLogprobs.self, forKey: .logprobs)
            finishReason = try container.decodeIfPresent(String.self, forKey: .finishReason)
            tokenIDs = try container.decodeIfPresent([Int].self, forKey: .tokenIDs)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encodeIfPresent(message, forKey: .message)
            try container.encodeIfPresent(delta, forKey: .delta)
            try container.encode(logprobs, forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
            try container.encodeIfPresent(tokenIDs, forKey: .tokenIDs)
        }
    }

    /// A streamed piece of the assistant message; the first chunk carries the role only.
    public struct Delta: Codable, Sendable, Hashable {
        public var role: String?
        public var content: String?

        public init(role: String? = nil, content: String? = nil) {
            self.role = role
            self.content = content
        }
    }

    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id)
        object = try container.decodeIfPresent(String.self, forKey: .object) ?? ""
        created = try container.decodeIfPresent(Int.self, forKey: .created)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        choices = try container.decodeIfPresent([Choice].self, forKey: .choices) ?? []
        usage = try container.decodeIfPresent(Usage.self, forKey: .usage)
    }
}
