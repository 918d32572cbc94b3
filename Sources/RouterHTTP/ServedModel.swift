// RadixServe: what the HTTP layer knows about the model it serves.

import HTTPTypes
import RouterService
import Tokenizers

/// The model behind the router: its name, tokenizer, chat template and limits.
package struct ServedModel: Sendable {
    /// The id clients pass as `model`.
    package var id: String
    package var tokenizer: any Tokenizer
    /// Nil when the checkpoint has no chat template (chat requests then fail with 400).
    package var chatPrompt: ChatPromptBuilder?
    /// Longest prompt + output.
    package var maxModelLength: Int
    /// Token ids accepted in prompts are `0..<vocabularySize`.
    package var vocabularySize: Int
    /// Unix time the router started (`created` of `/v1/models`).
    package var created: Int

    package init(
        id: String, tokenizer: any Tokenizer, chatPrompt: ChatPromptBuilder?, maxModelLength: Int, vocabularySize: Int,
        created: Int
    ) {
        self.id = id
        self.tokenizer = tokenizer
        self.chatPrompt = chatPrompt
        self.maxModelLength = maxModelLength
        self.vocabularySize = vocabularySize
        self.created = created
    }

    /// Checks the requested model name. `nil` (field omitted) means this model.
    /// - Throws: ``APIError`` 404 `model_not_found`.
    func check(model requested: String?) throws(APIError) {
        guard let requested, requested != id else { return }
        throw APIError(
            .notFound, "the model '\(requested)' does not exist; this server serves '\(id)'", type: "invalid_request_error",
            param: "model", code: "model_not_found")
    }

    /// Checks prompt tokens against the vocabulary and the context length.
    /// - Throws: ``APIError`` 400 naming the problem.
    func check(prompt tokens: [Int32], maxTokens: Int) throws(APIError) {
        guard !tokens.isEmpty else { throw APIError.invalid("the prompt is empty; it must contain at least one token", param: "prompt") }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw APIError.invalid("prompt token id \(bad) is outside the vocabulary [0, \(vocabularySize))", param: "prompt")
        }
        if tokens.count + maxTokens > maxModelLength {
            throw APIError.invalid(
                "this model's maximum context length is \(maxModelLength) tokens, but the request needs "
                    + "\(tokens.count + maxTokens) (\(tokens.count) in the prompt, \(maxTokens) to generate); "
                    + "shorten the prompt or lower max_tokens",
                param: tokens.count >= maxModelLength ? "prompt" : "max_tokens", code: "context_length_exceeded")
        }
    }

    /// Prompt tokens of a completion prompt (text is encoded with the tokenizer's special tokens, as transformers does).
    func tokens(of prompt: PromptInput) -> [Int32] {
        switch prompt {
        case .text(let text): tokenizer.encode(text, addSpecialTokens: true).map(Int32.init)
        case .tokens(let ids): ids.map { Int32(clamping: $0) }
        }
    }
}
