import ServingTypes

/// A completion response shape the client folds into a ``Completion``: a whole
/// `text_completion` or `chat.completion` body, or one chunk of its stream.
protocol CompletionPayload: Decodable {
    var id: String? { get }
    var model: String? { get }
    var usage: Usage? { get }
    /// Choice 0, reduced to what the client keeps; nil when the body has no choice.
    var firstChoice: CompletionPayloadChoice? { get }
}

/// What the client keeps of a choice.
struct CompletionPayloadChoice {
    /// The text it adds (`text`, `message.content` or `delta.content`).
    var text: String
    var finishReason: String?
    var tokenIDs: [Int]?
    /// A chat stream's first chunk: the assistant role and no text yet.
    var isRoleOnly: Bool
}

extension CompletionResponse: CompletionPayload {
    var firstChoice: CompletionPayloadChoice? {
        choices.first.map { .init(text: $0.text, finishReason: $0.finishReason, tokenIDs: $0.tokenIDs, isRoleOnly: false) }
    }
}

extension ChatCompletionResponse: CompletionPayload {
    var firstChoice: CompletionPayloadChoice? {
        choices.first.map { choice in
            .init(
                text: choice.content, finishReason: choice.finishReason, tokenIDs: choice.tokenIDs,
                isRoleOnly: choice.delta?.role != nil && choice.content.isEmpty)
        }
    }
}
