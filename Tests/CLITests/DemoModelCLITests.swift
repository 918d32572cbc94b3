import Certification
import Foundation
import Testing
import TestSupport

/// The bundled demo model through the CLI: the default `--model`, chat-template rendering, and
/// transformers' greedy continuations.
@Suite struct DemoModelCLITests {
    struct Line: Decodable {
        var promptTokenIDs: [Int32]
        var tokenIDs: [Int32]
        var text: String

        enum CodingKeys: String, CodingKey {
            case promptTokenIDs = "prompt_token_ids"
            case tokenIDs = "token_ids"
            case text
        }
    }

    @Test func chatWithTheDefaultModelMatchesTransformers() throws {
        let reference = try ModelReference.load("demo")
        let chatReference = try #require(reference.prompts.first { $0.text.contains("Where does Mira live?") })
        let outcome = try ProcessHarness.run(
            ["generate", "--chat", "Where does Mira live?", "--max-tokens", "32", "--ignore-eos", "--json"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let line = try JSONDecoder().decode(Line.self, from: Data(outcome.standardOutput.utf8))
        #expect(line.promptTokenIDs == chatReference.promptTokenIDs)
        #expect(line.tokenIDs == chatReference.greedyTokenIDs)
        #expect(line.text.hasPrefix("She lives in a small blue house by the Silver River."))
    }

    @Test func chatStopsAtTheEndOfTheAssistantTurn() throws {
        let outcome = try ProcessHarness.run(["generate", "--chat", "Where does Mira live?", "--max-tokens", "64"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardOutput == "She lives in a small blue house by the Silver River.\n")
    }

    @Test func modelWithoutChatTemplateIsAClearError() throws {
        let directory = try Fixtures.temporaryDirectory()
        for file in ["config.json", "model.safetensors", "tokenizer.json"] {
            try FileManager.default.copyItem(
                at: Fixtures.model("llama-gqa").appendingPathComponent(file), to: directory.appendingPathComponent(file))
        }
        let outcome = try ProcessHarness.run(["generate", "--model", directory.path, "--chat", "hi"])
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains("no chat template"), "\(outcome.standardError)")
    }
}
