// RadixServe: request bodies of the OpenAI-compatible and SGLang-style endpoints.

/// `POST /v1/completions`.
package struct CompletionRequest: Decodable, Sendable {
    package var model: String?
    package var prompt: PromptInput
    package var stream: Bool
    package var includeUsage: Bool
    package var logprobs: Int?
    package var echo: Bool
    /// Return the generated token ids on each choice (`token_ids`, as vLLM's extension does).
    package var returnTokenIDs: Bool
    package var sampling: SamplingFields

    enum CodingKeys: String, CodingKey {
        case model, prompt, stream, logprobs, echo
        case streamOptions = "stream_options"
        case returnTokenIDs = "return_token_ids"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        prompt = try container.decode(PromptInput.self, forKey: .prompt)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        includeUsage = try container.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)?.includeUsage ?? false
        logprobs = try container.decodeIfPresent(Int.self, forKey: .logprobs)
        echo = try container.decodeIfPresent(Bool.self, forKey: .echo) ?? false
        returnTokenIDs = try container.decodeIfPresent(Bool.self, forKey: .returnTokenIDs) ?? false
        sampling = try SamplingFields(from: decoder)
    }
}

/// `POST /v1/chat/completions`.
package struct ChatCompletionRequest: Decodable, Sendable {
    package var model: String?
    package var messages: [ChatMessage]
    package var stream: Bool
    package var includeUsage: Bool
    package var logprobs: Bool
    package var topLogprobs: Int?
    package var returnTokenIDs: Bool
    package var sampling: SamplingFields

    enum CodingKeys: String, CodingKey {
        case model, messages, stream, logprobs
        case streamOptions = "stream_options"
        case topLogprobs = "top_logprobs"
        case returnTokenIDs = "return_token_ids"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        messages = try container.decode([ChatMessage].self, forKey: .messages)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        includeUsage = try container.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)?.includeUsage ?? false
        logprobs = try container.decodeIfPresent(Bool.self, forKey: .logprobs) ?? false
        topLogprobs = try container.decodeIfPresent(Int.self, forKey: .topLogprobs)
        returnTokenIDs = try container.decodeIfPresent(Bool.self, forKey: .returnTokenIDs) ?? false
        sampling = try SamplingFields(from: decoder)
    }
}

/// One chat message; `content` may be a string or a list of `{"type": "text", "text": ...}` parts.
package struct ChatMessage: Decodable, Sendable {
    package var role: String
    package var content: String

    enum CodingKeys: String, CodingKey { case role, content }

    struct Part: Decodable {
        var type: String
        var text: String?
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        role = try container.decode(String.self, forKey: .role)
        if let text = try? container.decode(String.self, forKey: .content) {
            content = text
        } else if try container.decodeNil(forKey: .content) {
            content = ""
        } else {
            let parts = try container.decode([Part].self, forKey: .content)
            if let other = parts.first(where: { $0.type != "text" }) {
                throw DecodingError.dataCorruptedError(
                    forKey: .content, in: container, debugDescription: "content part type '\(other.type)' is not supported (text only)")
            }
            content = parts.compactMap(\.text).joined()
        }
    }
}

/// `stream_options`.
struct StreamOptions: Decodable {
    var includeUsage: Bool?
    enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
}

/// A completion prompt: text or token ids (one prompt per request).
package enum PromptInput: Decodable, Sendable {
    case text(String)
    case tokens([Int])

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else if let tokens = try? container.decode([Int].self) {
            self = .tokens(tokens)
        } else if let texts = try? container.decode([String].self), texts.count == 1 {
            self = .text(texts[0])
        } else if let lists = try? container.decode([[Int]].self), lists.count == 1 {
            self = .tokens(lists[0])
        } else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected a string, an array of token ids, or a one-element array of either (one prompt per request)")
        }
    }
}

/// `POST /generate` (SGLang's native API): `text` or `input_ids`, `sampling_params`, `stream`.
package struct GenerateRequest: Decodable, Sendable {
    package var text: String?
    package var inputIDs: [Int]?
    package var sampling: SamplingFields?
    package var stream: Bool
    package var returnLogprob: Bool
    package var topLogprobsNumber: Int?

    enum CodingKeys: String, CodingKey {
        case text, stream
        case inputIDs = "input_ids"
        case sampling = "sampling_params"
        case returnLogprob = "return_logprob"
        case topLogprobsNumber = "top_logprobs_num"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        text = try container.decodeIfPresent(String.self, forKey: .text)
        inputIDs = try container.decodeIfPresent([Int].self, forKey: .inputIDs)
        sampling = try container.decodeIfPresent(SamplingFields.self, forKey: .sampling)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        returnLogprob = try container.decodeIfPresent(Bool.self, forKey: .returnLogprob) ?? false
        topLogprobsNumber = try container.decodeIfPresent(Int.self, forKey: .topLogprobsNumber)
    }
}

/// `POST /workers`.
package struct AddWorkerRequest: Decodable, Sendable {
    package var endpoint: String
}
