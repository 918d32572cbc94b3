import Certification
import Engine
import Foundation
import ServingTypes
import Testing
import TestSupport
import Tokenizers

/// `radixserve generate` in this process, without the executable: prompts one after another or a
/// prompts file at once, written as text or records.
@Suite struct TextGenerationTests {
    private static let config = EngineConfig(pageSize: 4, kvMemory: .pages(256), maxBatchedTokens: 64)

    @Test func recordsCarryTheGreedyTokensOfEachPromptInOrder() throws {
        let reference = try ModelReference.load("llama-gqa")
        let prompts = Array(reference.prompts.prefix(2))
        var records: [GenerationRecord] = []
        let generation = TextGeneration(
            tokenizer: try AutoTokenizer.load(directory: Fixtures.model("llama-gqa")), output: .records { records.append($0) })
        try generation.run(
            prompts.map(\.promptTokenIDs), params: EngineHarness.greedy, model: EngineHarness.model("llama-gqa"),
            config: Self.config)
        #expect(records.map(\.promptTokenIDs) == prompts.map(\.promptTokenIDs))
        #expect(records.map(\.tokenIDs) == prompts.map(\.greedyTokenIDs))
        #expect(records.map(\.text) == prompts.map(\.greedyText))
        #expect(records.allSatisfy { $0.finishReason == "length" && $0.cachedTokens == nil && $0.error == nil })
    }

    @Test func textStreamsEachAnswerThenANewline() throws {
        let prompt = try ModelReference.load("llama-gqa").prompts[1]
        var written: [String] = []
        let generation = TextGeneration(
            tokenizer: try AutoTokenizer.load(directory: Fixtures.model("llama-gqa")), output: .text { written.append($0) })
        try generation.run(
            [prompt.promptTokenIDs], params: EngineHarness.greedy, model: EngineHarness.model("llama-gqa"), config: Self.config)
        #expect(written.joined() == prompt.greedyText + "\n")
        // Pieces as the tokens arrive, then the rest of the detokenizer and the newline.
        #expect(written.count > 2 && written.last?.hasSuffix("\n") == true)
    }

    @Test func aPromptsFileRunsAtOnceAndWritesEachResultInOrder() throws {
        let reference = try ModelReference.load("llama-gqa")
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("prompts.jsonl")
        let quoted = String(decoding: try JSONEncoder().encode(reference.prompts[0].text), as: UTF8.self)
        let lines = [#"{"prompt": \#(quoted), "max_tokens": 3}"#, #"{"prompt": "a", "max_tokens": 100000}"#]
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let prompts = try PromptLine.load(path: file.path, defaults: EngineHarness.greedy)
        let tokenizer = try AutoTokenizer.load(directory: Fixtures.model("llama-gqa"))

        var written = ""
        let text = TextGeneration(tokenizer: tokenizer, output: .text { written += $0 })
        #expect(try text.runBatch(prompts, model: EngineHarness.model("llama-gqa"), config: Self.config) == false)
        let expected = tokenizer.decode(reference.prompts[0].greedyTokenIDs.prefix(3).map(Int.init), skipSpecialTokens: false)
        let outputLines = written.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(outputLines.count == 3 && outputLines[2].isEmpty)
        #expect(outputLines[0] == "[0] " + expected)
        #expect(outputLines[1].hasPrefix("[1] error: "))

        var records: [GenerationRecord] = []
        let json = TextGeneration(tokenizer: tokenizer, output: .records { records.append($0) })
        #expect(try json.runBatch(prompts, model: EngineHarness.model("llama-gqa"), config: Self.config) == false)
        #expect(records.count == 2)
        #expect(records[0].tokenIDs == Array(reference.prompts[0].greedyTokenIDs.prefix(3)))
        #expect(records[0].cachedTokens == 0 && records[0].error == nil)
        #expect(records[1].finishReason == "error" && records[1].error != nil && records[1].tokenIDs.isEmpty)
    }
}
