// RadixServe: the log-probability shapes of the OpenAI responses.

/// Legacy completions log-probabilities: parallel arrays, one entry per generated token.
public struct CompletionLogprobs: Codable, Sendable, Hashable {
    /// Each token's text.
    public var tokens: [String]
    /// Each token's log-probability.
    public var tokenLogprobs: [Float]
    /// Each position's most likely tokens (text → log-probability).
    public var topLogprobs: [[String: Float]]
    /// Each token's UTF-8 offset in the choice's text.
    public var textOffset: [Int]

    public init(tokens: [String] = [], tokenLogprobs: [Float] = [], topLogprobs: [[String: Float]] = [], textOffset: [Int] = []) {
        self.tokens = tokens
        self.tokenLogprobs = tokenLogprobs
        self.topLogprobs = topLogprobs
        self.textOffset = textOffset
    }

    enum CodingKeys: String, CodingKey {
        case tokens
        case tokenLogprobs = "token_logprobs"
        case topLogprobs = "top_logprobs"
        case textOffset = "text_offset"
    }
}

/// Chat log-probabilities: one entry per generated token.
public struct ChatLogprobs: Codable, Sendable, Hashable {
    public var content: [Entry]

    public init(content: [Entry] = []) {
        self.content = content
    }

    /// A generated token with its log-probability and the most likely alternatives.
    public struct Entry: Codable, Sendable, Hashable {
        public var token: String
        public var logprob: Float
        /// The token's UTF-8 bytes.
        public var bytes: [UInt8]
        public var topLogprobs: [Alternative]

        public init(token: String, logprob: Float, bytes: [UInt8], topLogprobs: [Alternative]) {
            self.token = token
            self.logprob = logprob
            self.bytes = bytes
            self.topLogprobs = topLogprobs
        }

        enum CodingKeys: String, CodingKey {
            case token, logprob, bytes
            case topLogprobs = "top_logprobs"
        }
    }

    /// One of the most likely tokens at a position.
    public struct Alternative: Codable, Sendable, Hashable {
        public var token: String
        public var logprob: Float
        /// The token's UTF-8 bytes.
        public var bytes: [UInt8]

        public init(token: String, logprob: Float, bytes: [UInt8]) {
            self.token = token
            self.logprob = logprob
            self.bytes = bytes
        }
    }
}
