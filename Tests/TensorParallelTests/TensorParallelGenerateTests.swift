import Certification
import Foundation
import Testing
import TestSupport

/// `generate --tp N` as users run it: rank 0 plus N-1 child rank processes of the built executable,
/// for single prompts (one request at a time) and prompt files (one batch), both through the engine loop.
@Suite(.serialized) struct TensorParallelGenerateTests {
    struct Line: Decodable {
        var tokenIDs: [Int32]
        enum CodingKeys: String, CodingKey { case tokenIDs = "token_ids" }
    }

    static let cases: [(String, Int)] = Fixtures.modelNames.flatMap { name in [1, 2, 4].map { (name, $0) } }

    @Test(arguments: cases)
    func greedyTokensEqualTransformers(model name: String, tp: Int) throws {
        let reference = try ModelReference.load(name)
        let prompts = reference.prompts.prefix(2)
        let outcome = try ProcessHarness.run(
            ["generate", "--model", Fixtures.model(name).path, "--max-tokens", "32", "--ignore-eos", "--json",
             "--threads", "1", "--tp", "\(tp)", "--tp-timeout", "20"] + prompts.flatMap { ["--prompt", $0.text] },
            timeout: 90)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let lines = outcome.standardOutput.split(separator: "\n")
        #expect(lines.count == prompts.count)
        for (line, prompt) in zip(lines, prompts) {
            let result = try JSONDecoder().decode(Line.self, from: Data(line.utf8))
            #expect(result.tokenIDs == prompt.greedyTokenIDs, "\(name) at tp \(tp)")
        }
    }

    @Test func replicatedLMHeadGivesTheSameTokens() throws {
        let prompt = try ModelReference.load("llama-tp4").prompts[0]
        let outcome = try ProcessHarness.run(
            ["generate", "--model", Fixtures.model("llama-tp4").path, "--max-tokens", "32", "--ignore-eos", "--json",
             "--threads", "1", "--tp", "4", "--tp-replicated-lm-head", "--prompt", prompt.text], timeout: 90)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let line = try JSONDecoder().decode(Line.self, from: Data(outcome.standardOutput.utf8))
        #expect(line.tokenIDs == prompt.greedyTokenIDs)
    }

    /// `--prompts-file` runs the batched engine; with `--tp` the engine drives rank 0 of the group.
    @Test(arguments: ["llama-gqa", "qwen3-qknorm"])
    func batchedEngineGivesTheSameTokensAcrossGroupSizes(model name: String) throws {
        let reference = try ModelReference.load(name)
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("prompts.jsonl")
        let lines = try reference.prompts.map { prompt in
            String(decoding: try JSONSerialization.data(withJSONObject: ["prompt": prompt.text]), as: UTF8.self)
        }
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        var outputs: [[[Int32]]] = []
        for tp in [1, 2] {
            let outcome = try ProcessHarness.run(
                ["generate", "--model", Fixtures.model(name).path, "--prompts-file", file.path, "--max-tokens", "32",
                 "--ignore-eos", "--json", "--threads", "1", "--kv-memory", "4M", "--tp", "\(tp)", "--tp-timeout", "20"],
                timeout: 120)
            #expect(outcome.status == 0, "tp \(tp): \(outcome.standardError)")
            outputs.append(try outcome.standardOutput.split(separator: "\n").map {
                try JSONDecoder().decode(Line.self, from: Data($0.utf8)).tokenIDs
            })
            #expect(outcome.standardError.contains("started tensor-parallel rank 1") == (tp == 2))
        }
        #expect(outputs[0] == reference.prompts.map(\.greedyTokenIDs))
        #expect(outputs[1] == outputs[0])
    }

    /// `--kv-dtype bf16` reaches every rank (each holds its KV heads in bf16 and says so), and
    /// llama-gqa's first two prompts, which have no near-tie at bf16 precision (see
    /// `BF16KVParityTests`), keep transformers' tokens.
    @Test func bf16KVReachesTheRanks() throws {
        let reference = try ModelReference.load("llama-gqa")
        let prompts = reference.prompts.prefix(2)
        let outcome = try ProcessHarness.run(
            ["generate", "--model", Fixtures.model("llama-gqa").path, "--max-tokens", "32", "--ignore-eos", "--json",
             "--threads", "1", "--tp", "2", "--tp-timeout", "20", "--kv-dtype", "bf16"] + prompts.flatMap { ["--prompt", $0.text] },
            timeout: 90)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardError.contains("rank 1: KV cache of"), "\(outcome.standardError)")
        #expect(outcome.standardError.contains("tokens in bf16"), "\(outcome.standardError)")
        let lines = outcome.standardOutput.split(separator: "\n")
        #expect(lines.count == prompts.count)
        for (line, prompt) in zip(lines, prompts) {
            #expect(try JSONDecoder().decode(Line.self, from: Data(line.utf8)).tokenIDs == prompt.greedyTokenIDs)
        }
    }

    @Test func aDeviceWithoutTheKVDTypeIsRefusedBeforeTheGroupForms() throws {
        let outcome = try ProcessHarness.run(
            ["generate", "--model", Fixtures.model("llama-gqa").path, "--prompt", "hi", "--backend", "reference",
             "--kv-dtype", "bf16", "--tp", "2", "--tp-timeout", "10"],
            timeout: 60)
        #expect(outcome.status != 0)
        #expect(
            outcome.standardError.contains("device 'reference' cannot run this model: KV cache dtype bf16 is not supported (supports: f32)"),
            "\(outcome.standardError)")
    }

    @Test func indivisibleHeadsFailWithAClearMessage() throws {
        let outcome = try ProcessHarness.run(
            ["generate", "--model", Fixtures.model("llama-gqa").path, "--prompt", "hi", "--tp", "3", "--tp-timeout", "10"],
            timeout: 60)
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains("not divisible by the tensor-parallel size 3"), "\(outcome.standardError)")
    }
}
