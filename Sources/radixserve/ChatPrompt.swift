import ArgumentParser
import ChatTemplates
import Foundation
import Tokenizers

/// Turns a user message into prompt tokens with the checkpoint's own chat template, the way
/// transformers' `apply_chat_template(..., add_generation_prompt=True)` does: render, then encode
/// without adding special tokens (the template writes them).
struct ChatPrompt {
    let template: ChatTemplate
    let bosToken: String?
    let eosToken: String?

    /// Reads the template (`chat_template.jinja` or `tokenizer_config.json`) of the model in `directory`.
    init(directory: URL, tokenizer: any Tokenizer) throws {
        guard let source = tokenizer.chatTemplate else {
            throw ValidationError("the model in \(directory.path) has no chat template (tokenizer_config.json or chat_template.jinja)")
        }
        template = try ChatTemplate(source)
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        if let text = try? String(contentsOf: configURL, encoding: .utf8), let config = try? ChatTemplateConfig(tokenizerConfigJSON: text) {
            bosToken = config.bosToken
            eosToken = config.eosToken
        } else {
            bosToken = tokenizer.bosTokenID.flatMap(tokenizer.tokenString(for:))
            eosToken = tokenizer.eosTokenIDs.first.flatMap(tokenizer.tokenString(for:))
        }
    }

    /// Prompt token ids for one user turn, optionally after a system message.
    func tokenIDs(user: String, system: String?, tokenizer: any Tokenizer) throws -> [Int32] {
        var messages: [JinjaValue] = []
        if let system { messages.append(Self.message("system", system)) }
        messages.append(Self.message("user", user))
        let text = try template.render(messages: messages, addGenerationPrompt: true, bosToken: bosToken, eosToken: eosToken)
        return tokenizer.encode(text, addSpecialTokens: false).map(Int32.init)
    }

    private static func message(_ role: String, _ content: String) -> JinjaValue {
        .dictionary(JinjaDictionary([("role", .string(role)), ("content", .string(content))]))
    }
}
