// RadixServe: what the HTTP layer knows about the model it serves.

import HTTPTypes
import RouterService
import ServingTypes
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

    /// Checks prompt tokens against the vocabulary and the context length; `maxTokensName` is
    /// the request key of the output limit (`max_tokens`, `max_completion_tokens`, `max_new_tokens`).
    /// - Throws: ``APIError`` 400 naming the problem.
    func check(prompt tokens: [Int32], maxTokens: Int, maxTokensName: String) throws(APIError) {
        guard !tokens.isEmpty else { throw APIError.invalid("the prompt is empty; it must contain at least one token", param: "prompt") }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw outsideVocabulary(Int(bad))
        }
        if tokens.count + maxTokens > maxModelLength {
            throw APIError.invalid(
                "this model's maximum context length is \(maxModelLength) tokens, but the request needs "
                    + "\(tokens.count + maxTokens) (\(tokens.count) in the prompt, \(maxTokens) to generate); "
                    + "shorten the prompt or lower \(maxTokensName)",
                param: tokens.count >= maxModelLength ? "prompt" : maxTokensName, code: "context_length_exceeded")
        }
    }

    /// Prompt tokens of a completion prompt (text is encoded with the tokenizer's special tokens, as transformers does).
    /// - Throws: ``APIError`` 400 for a token id outside the vocabulary, naming the id as sent.
    func tokens(of prompt: CompletionRequest.Prompt) throws(APIError) -> [Int32] {
        switch prompt {
        case .text(let text): tokenizer.encode(text, addSpecialTokens: true).map(Int32.init)
        case .tokenIDs(let ids): try tokens(ids: ids)
        }
    }

    /// Token ids sent by a client, checked against the vocabulary before they are narrowed to 32 bits.
    /// - Throws: ``APIError`` 400 naming the first id outside the vocabulary, as sent.
    func tokens(ids: [Int]) throws(APIError) -> [Int32] {
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocabularySize }) { throw outsideVocabulary(bad) }
        return ids.map { Int32($0) }
    }

    private func outsideVocabulary(_ id: Int) -> APIError {
        APIError.invalid("prompt token id \(id) is outside the vocabulary [0, \(vocabularySize))", param: "prompt")
    }
}
