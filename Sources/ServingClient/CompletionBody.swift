/// The JSON shapes a completion endpoint returns, decoded leniently into one type: a
/// `text_completion` or `chat.completion` body, a streamed `*.chunk`, the final usage-only chunk,
/// or an in-stream `{"error": …}` object. Unknown fields are ignored.
struct CompletionBody: Decodable {
    struct Message: Decodable {
        var role: String?
        var content: String?
    }

    struct Choice: Decodable {
        var index: Int?
        /// `/v1/completions`.
        var text: String?
        /// `/v1/chat/completions`, non-streaming.
        var message: Message?
        /// `/v1/chat/completions`, streaming.
        var delta: Message?
        var finishReason: String?
        /// Generated token ids, when the request asked for `return_token_ids`.
        var tokenIDs: [Int]?

        enum CodingKeys: String, CodingKey {
            case index, text, message, delta
            case finishReason = "finish_reason"
            case tokenIDs = "token_ids"
        }

        /// The generated text this choice carries, whichever endpoint it came from.
        var content: String { text ?? message?.content ?? delta?.content ?? "" }
    }

    var id: String?
    var model: String?
    var choices: [Choice]
    var usage: Usage?
    var error: APIErrorBody.Detail?

    enum CodingKeys: String, CodingKey {
        case id, model, choices, usage, error
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        choices = try container.decodeIfPresent([Choice].self, forKey: .choices) ?? []
        usage = try container.decodeIfPresent(Usage.self, forKey: .usage)
        error = try? container.decodeIfPresent(APIErrorBody.Detail.self, forKey: .error)
    }
}
