import ServingTypes

/// The outcome of one completion or chat completion (choice 0), streamed or not.
public struct Completion: Sendable, Equatable {
    /// The response id, e.g. `cmpl-…`.
    public var id: String?
    /// The model that answered.
    public var model: String?
    /// The generated text (the assistant message's content for chat).
    public var text: String
    /// `stop`, `length`, or another server-defined reason; nil if the server never sent one.
    public var finishReason: String?
    /// Generated token ids, if the request asked for them and the server returned them.
    public var tokenIDs: [Int]?
    /// Token counts; nil if the server sent none (streams without `include_usage`).
    public var usage: Usage?

    public init(
        id: String? = nil, model: String? = nil, text: String = "", finishReason: String? = nil, tokenIDs: [Int]? = nil,
        usage: Usage? = nil
    ) {
        self.id = id
        self.model = model
        self.text = text
        self.finishReason = finishReason
        self.tokenIDs = tokenIDs
        self.usage = usage
    }

    /// A non-streaming body; throws if it has no choice.
    init(body: some CompletionPayload, request: String) throws {
        guard let choice = body.firstChoice else {
            throw ServingClientError.malformedResponse("the response to \(request) has no choices")
        }
        self.init(
            id: body.id, model: body.model, text: choice.text, finishReason: choice.finishReason,
            tokenIDs: choice.tokenIDs, usage: body.usage)
    }
}
