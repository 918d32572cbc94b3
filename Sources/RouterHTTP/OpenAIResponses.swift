// RadixServe: response bodies of the OpenAI-compatible endpoints.

/// `usage`, with `prompt_tokens_details.cached_tokens`.
package struct Usage: Codable, Sendable, Hashable {
    package var promptTokens: Int
    package var completionTokens: Int
    package var totalTokens: Int
    package var promptTokensDetails: Details

    package struct Details: Codable, Sendable, Hashable {
        package var cachedTokens: Int
        enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
    }

    package init(prompt: Int, completion: Int, cached: Int) {
        promptTokens = prompt
        completionTokens = completion
        totalTokens = prompt + completion
        promptTokensDetails = Details(cachedTokens: cached)
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case promptTokensDetails = "prompt_tokens_details"
    }
}

/// `text_completion` (and its streamed chunks, which share the shape).
package struct CompletionResponse: Encodable, Sendable {
    package var id: String
    package var object = "text_completion"
    package var created: Int
    package var model: String
    package var choices: [Choice]
    package var usage: Usage?

    package struct Choice: Encodable, Sendable {
        package var index = 0
        package var text: String
        package var logprobs: CompletionLogprobs?
        package var finishReason: String?
        /// Generated token ids, when the request set `return_token_ids`.
        package var tokenIDs: [Int32]?

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(text, forKey: .text)
            try container.encode(logprobs, forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
            try container.encodeIfPresent(tokenIDs, forKey: .tokenIDs)
        }

        enum CodingKeys: String, CodingKey {
            case index, text, logprobs
            case finishReason = "finish_reason"
            case tokenIDs = "token_ids"
        }
    }
}

/// Legacy completions log-probabilities: parallel arrays per generated token.
package struct CompletionLogprobs: Encodable, Sendable {
    package var tokens: [String] = []
    package var tokenLogprobs: [Float] = []
    package var topLogprobs: [[String: Float]] = []
    package var textOffset: [Int] = []

    enum CodingKeys: String, CodingKey {
        case tokens
        case tokenLogprobs = "token_logprobs"
        case topLogprobs = "top_logprobs"
        case textOffset = "text_offset"
    }
}

/// `chat.completion` and `chat.completion.chunk`.
package struct ChatCompletionResponse: Encodable, Sendable {
    package var id: String
    package var object: String
    package var created: Int
    package var model: String
    package var choices: [Choice]
    package var usage: Usage?

    package struct Choice: Encodable, Sendable {
        package var index = 0
        /// Set in whole responses.
        package var message: Message?
        /// Set in chunks.
        package var delta: Delta?
        package var logprobs: ChatLogprobs?
        package var finishReason: String?
        /// Generated token ids, when the request set `return_token_ids`.
        package var tokenIDs: [Int32]?

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encodeIfPresent(message, forKey: .message)
            try container.encodeIfPresent(delta, forKey: .delta)
            try container.encode(logprobs, forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
            try container.encodeIfPresent(tokenIDs, forKey: .tokenIDs)
        }

        enum CodingKeys: String, CodingKey {
            case index, message, delta, logprobs
            case finishReason = "finish_reason"
            case tokenIDs = "token_ids"
        }
    }

    package struct Message: Encodable, Sendable {
        package var role = "assistant"
        package var content: String
    }

    package struct Delta: Encodable, Sendable {
        package var role: String?
        package var content: String?
    }
}

/// Chat log-probabilities: one entry per generated token.
package struct ChatLogprobs: Encodable, Sendable {
    package var content: [Entry] = []

    package struct Entry: Encodable, Sendable {
        package var token: String
        package var logprob: Float
        package var bytes: [UInt8]
        package var topLogprobs: [Alternative]

        enum CodingKeys: String, CodingKey {
            case token, logprob, bytes
            case topLogprobs = "top_logprobs"
        }
    }

    package struct Alternative: Encodable, Sendable {
        package var token: String
        package var logprob: Float
        package var bytes: [UInt8]
    }
}

/// `GET /v1/models`.
package struct ModelList: Encodable, Sendable {
    package var object = "list"
    package var data: [Model]

    package struct Model: Encodable, Sendable {
        package var id: String
        package var object = "model"
        package var created: Int
        package var ownedBy = "radixserve"
        package var maxModelLength: Int
        package var vocabularySize: Int

        enum CodingKeys: String, CodingKey {
            case id, object, created
            case ownedBy = "owned_by"
            case maxModelLength = "max_model_len"
            case vocabularySize = "vocab_size"
        }
    }
}
