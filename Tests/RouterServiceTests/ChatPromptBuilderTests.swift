import Foundation
import RouterService
import Testing
import TestSupport
import Tokenizers

/// The prompts of a local `generate`: `--prompt` texts, then `--chat` messages.
@Suite struct ChatPromptBuilderTests {
    @Test func promptsComeFirstWithSpecialTokensThenChatsWithTheTemplate() throws {
        let directory = Fixtures.model("llama-gqa")
        let tokenizer = try AutoTokenizer.load(directory: directory)
        let ids = try ChatPromptBuilder.promptTokenIDs(
            ["Once upon", "a time"], chats: ["Hi"], system: "Be brief.", directory: directory, tokenizer: tokenizer)
        let chat = try ChatPromptBuilder.singleTurnPrompts(["Hi"], system: "Be brief.", directory: directory, tokenizer: tokenizer)
        #expect(ids == ["Once upon", "a time"].map { tokenizer.encode($0, addSpecialTokens: true).map(Int32.init) } + chat)
    }

    @Test func onlyChatsNeedAChatTemplate() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(
            at: Fixtures.model("llama-gqa").appendingPathComponent("tokenizer.json"),
            to: directory.appendingPathComponent("tokenizer.json"))
        let tokenizer = try AutoTokenizer.load(directory: directory)
        let plain = try ChatPromptBuilder.promptTokenIDs(["hi"], chats: [], system: nil, directory: directory, tokenizer: tokenizer)
        #expect(plain == [tokenizer.encode("hi", addSpecialTokens: true).map(Int32.init)])
        #expect(throws: MissingChatTemplate.self) {
            try ChatPromptBuilder.promptTokenIDs(["hi"], chats: ["hi"], system: nil, directory: directory, tokenizer: tokenizer)
        }
    }
}
