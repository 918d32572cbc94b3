// RadixServe: the response of POST /v1/completions and its streamed chunks.

/// A `text_completion` body, and each chunk of its stream (same shape; the last chunk of a stream
/// that asked for usage has no choices and carries ``usage``).
///
/// Decoding is lenient (missing `id`, `object`, `created`, `model` or `choices` are tolerated,
/// unknown fields ignored), so the client reads other OpenAI-compatible servers too.
public struct CompletionResponse: Codable, Sendable, Hashable {
    public var id: String?
    /// `text_completion`.
    public var object: String
    /// Unix time of creation.
    public var created: Int?
    public var model: String?
    public var choices: [Choice]
    public var usage: Usage?

    public init(
        id: String?, object: String = "text_completion", created: Int?, model: String?, choices: [Choice],
        usage: Usage? = nil
    ) {
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
        /// The generated text (of this chunk, in a stream).
        public var text: String
        /// Sent as `null` unless the request asked for log-probabilities.
        public var logprobs: CompletionLogprobs?
        /// `stop`, `length`, …; `null` until the last chunk.
        public var finishReason: String?
        /// Generated token ids, when the request set `return_token_ids`.
        public var tokenIDs: [Int]?

        public init(
            index: Int = 0, text: String, logprobs: CompletionLogprobs? = nil, finishReason: String? = nil,
            tokenIDs: [Int]? = nil
        ) {
            self.index = index
            self.text = text
            self.logprobs = logprobs
            self.finishReason = finishReason
            self.tokenIDs = tokenIDs
        }

        enum CodingKeys: String, CodingKey {
            case index, text, logprobs
            case finishReason = "finish_reason"
            case tokenIDs = "token_ids"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            index = try container.decodeIfPresent(Int.self, forKey: .index) ?? 0
            text = try container.decodeIfPresent(String.self, forKey: .text) ?? ""
            // Other servers' shapes (null entries for echoed prompt tokens) are not worth failing over.
            logprobs = try? container.decodeIfPresent(CompletionLogprobs.self, forKey: .logprobs)
            finishReason = try container.decodeIfPresent(String.self, forKey: .finishReason)
            tokenIDs = try container.decodeIfPresent([Int].self, forKey: .tokenIDs)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(text, forKey: .text)
            try container.encode(logprobs, forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
            try container.encodeIfPresent(tokenIDs, forKey: .tokenIDs)
        }
    }

    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id)
        object = try container.decodeIfPresent(String.self, forKey: .object) ?? "text_completion"
        created = try container.decodeIfPresent(Int.self, forKey: .created)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        choices = try container.decodeIfPresent([Choice].self, forKey: .choices) ?? []
        usage = try container.decodeIfPresent(Usage.self, forKey: .usage)
    }
}
