// RadixServe: the `--json` line of one prompt of `radixserve generate` run in this process.

import ServingTypes
import Tokenizers

/// The `--json` line of one prompt run in this process.
public struct GenerationRecord: Sendable, Hashable, Encodable {
    public var promptTokenIDs: [Int32]
    public var tokenIDs: [Int32]
    public var text: String
    /// The OpenAI name of the finish reason (`stop`, `length`, `error`, …).
    public var finishReason: String
    /// Prompt tokens served from the prefix cache; only for a prompts-file line.
    public var cachedTokens: Int?
    /// Why the request failed; only for a prompts-file line.
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case promptTokenIDs = "prompt_token_ids"
        case tokenIDs = "token_ids"
        case text
        case finishReason = "finish_reason"
        case cachedTokens = "cached_tokens"
        case error
    }

    /// The record of `output` for `prompt`; a prompts-file line (`isBatch`) also carries the
    /// cached tokens and any error.
    public init(prompt: [Int32], _ output: CollectedOutput, tokenizer: any Tokenizer, isBatch: Bool) {
        let reason = output.finalReason
        promptTokenIDs = prompt
        tokenIDs = output.tokenIDs
        text = output.text(decodedBy: tokenizer)
        finishReason = reason.openAIName
        cachedTokens = isBatch ? output.usage?.cachedTokenCount ?? 0 : nil
        error = isBatch ? reason.errorMessage : nil
    }
}
