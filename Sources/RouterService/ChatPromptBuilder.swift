// RadixServe: chat messages to prompt tokens with the checkpoint's own template.

import ChatTemplates
import Foundation
import Tokenizers

/// Renders a conversation with the model's chat template the way transformers'
/// `apply_chat_template(..., add_generation_prompt=True)` does, then encodes it without adding
/// special tokens (the template writes them).
package struct ChatPromptBuilder: Sendable {
    package let template: ChatTemplate
    let bosToken: String?
    let eosToken: String?

    /// Reads the template (`chat_template.jinja` or `tokenizer_config.json`) of the checkpoint in
    /// `directory`. Returns nil when it has none.
    /// - Throws: ``ChatTemplates/ChatTemplateError`` when the template does not compile.
    package init?(directory: URL, tokenizer: any Tokenizer) throws {
        guard let source = tokenizer.chatTemplate else { return nil }
        template = try ChatTemplate(source)
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        if let text = try? String(contentsOf: configURL, encoding: .utf8),
            let config = try? ChatTemplateConfig(tokenizerConfigJSON: text)
        {
            bosToken = config.bosToken
            eosToken = config.eosToken
        } else {
            bosToken = tokenizer.bosTokenID.flatMap(tokenizer.tokenString(for:))
            eosToken = tokenizer.eosTokenIDs.first.flatMap(tokenizer.tokenString(for:))
        }
    }

    /// The rendered prompt text for `messages` (`role`, `content` pairs), ending in an open
    /// assistant turn. Template errors (including `raise_exception`) are thrown.
    package func render(_ messages: [(role: String, content: String)]) throws -> String {
        let values = messages.map { message in
            JinjaValue.dictionary(JinjaDictionary([("role", .string(message.role)), ("content", .string(message.content))]))
        }
        return try template.render(messages: values, addGenerationPrompt: true, bosToken: bosToken, eosToken: eosToken)
    }

    /// Prompt token ids for `messages`.
    package func tokenIDs(_ messages: [(role: String, content: String)], tokenizer: any Tokenizer) throws -> [Int32] {
        tokenizer.encode(try render(messages), addSpecialTokens: false).map(Int32.init)
    }

    /// Prompt token ids of one single-turn conversation per entry of `userMessages`, each after
    /// `system` when given, rendered with the template of the checkpoint in `directory`.
    /// - Throws: ``MissingChatTemplate`` when the checkpoint has none.
    package static func singleTurnPrompts(
        _ userMessages: [String], system: String?, directory: URL, tokenizer: any Tokenizer
    ) throws -> [[Int32]] {
        guard let builder = try ChatPromptBuilder(directory: directory, tokenizer: tokenizer) else {
            throw MissingChatTemplate(directory: directory)
        }
        let head = system.map { [(role: "system", content: $0)] } ?? []
        return try userMessages.map { try builder.tokenIDs(head + [(role: "user", content: $0)], tokenizer: tokenizer) }
    }

    /// Prompt token ids of a local generation: every entry of `prompts` encoded with the
    /// tokenizer's special tokens, then every entry of `chats` as
    /// ``singleTurnPrompts(_:system:directory:tokenizer:)`` renders it (the template is only
    /// needed when there are chats).
    package static func promptTokenIDs(
        _ prompts: [String], chats: [String], system: String?, directory: URL, tokenizer: any Tokenizer
    ) throws -> [[Int32]] {
        let encoded = prompts.map { tokenizer.encode($0, addSpecialTokens: true).map(Int32.init) }
        guard !chats.isEmpty else { return encoded }
        return try encoded + singleTurnPrompts(chats, system: system, directory: directory, tokenizer: tokenizer)
    }
}

/// A chat prompt was asked of a checkpoint that has no chat template.
package struct MissingChatTemplate: Error, CustomStringConvertible {
    package var directory: URL

    package var description: String {
        "the model in \(directory.path) has no chat template (tokenizer_config.json or chat_template.jinja)"
    }
}
