import Certification
import Foundation
import Testing
import TestSupport

/// `radixserve generate` as a user runs it: the built executable, real checkpoints, stdout/stderr.
@Suite struct GenerateCLITests {
    struct Line: Decodable {
        var promptTokenIDs: [Int32]
        var tokenIDs: [Int32]
        var text: String
        var finishReason: String

        enum CodingKeys: String, CodingKey {
            case promptTokenIDs = "prompt_token_ids"
            case tokenIDs = "token_ids"
            case text
            case finishReason = "finish_reason"
        }
    }

    @Test(arguments: ["llama-gqa", "qwen3-qknorm", "mistral-mqa-f16"])
    func jsonOutputEqualsTransformers(model name: String) throws {
        let reference = try ModelReference.load(name)
        let prompts = reference.prompts.prefix(2)
        let outcome = try ProcessHarness.run(
            ["generate", "--model", Fixtures.model(name).path, "--max-tokens", "32", "--ignore-eos", "--json", "--threads", "2"]
                + prompts.flatMap { ["--prompt", $0.text] })
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let lines = outcome.standardOutput.split(separator: "\n")
        #expect(lines.count == prompts.count)
        for (line, prompt) in zip(lines, prompts) {
            let result = try JSONDecoder().decode(Line.self, from: Data(line.utf8))
            #expect(result.promptTokenIDs == prompt.promptTokenIDs)
            #expect(result.tokenIDs == prompt.greedyTokenIDs)
            #expect(result.text == prompt.greedyText)
            #expect(result.finishReason == "length")
        }
    }

    @Test func streamsTheSameTextAsJSON() throws {
        let prompt = try ModelReference.load("llama-gqa").prompts[1]
        let model = Fixtures.model("llama-gqa").path
        let streamed = try ProcessHarness.run(
            ["generate", "--model", model, "--prompt", prompt.text, "--max-tokens", "32", "--ignore-eos"])
        #expect(streamed.status == 0, "\(streamed.standardError)")
        #expect(streamed.standardOutput == prompt.greedyText + "\n")
    }

    @Test(arguments: [
        (["--temperature", "-1"], "--temperature"),
        (["--temperature", "nan"], "--temperature"),
        (["--top-p", "0"], "--top-p"),
        (["--top-k", "-3"], "--top-k"),
        (["--max-tokens", "0"], "--max-tokens"),
        (["--backend", "tpu"], "tpu"),
        (["--threads", "-2"], "--threads"),
        (["--quantize", "int4"], "--quantize"),
        (["--backend", "reference", "--quantize", "int8"], "device 'reference' cannot quantize weights to int8"),
    ])
    func invalidFlagsFailWithAMessageNamingTheFlag(flags: [String], expected: String) throws {
        let outcome = try ProcessHarness.run(
            ["generate", "--model", Fixtures.model("llama-gqa").path, "--prompt", "hi"] + flags)
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains(expected), "\(outcome.standardError)")
        #expect(outcome.standardOutput.isEmpty)
    }

    @Test func missingModelNamesTheDirectory() throws {
        let outcome = try ProcessHarness.run(["generate", "--model", "/nonexistent/model", "--prompt", "hi"])
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains("/nonexistent/model"), "\(outcome.standardError)")
    }

    /// `--quantize int8`: the same prompt generates with int8 weights (a release build's
    /// `bench --workload quantization` measures how close they stay), and `bench` says which
    /// weights it ran.
    @Test func int8WeightsGenerateAndBenchReportsThem() throws {
        let model = Fixtures.model("llama-gqa").path
        let generated = try ProcessHarness.run(
            ["generate", "--model", model, "--prompt", "hello", "--max-tokens", "8", "--ignore-eos", "--json", "--quantize", "int8"])
        #expect(generated.status == 0, "\(generated.standardError)")
        let line = try JSONDecoder().decode(Line.self, from: Data(generated.standardOutput.utf8))
        #expect(line.tokenIDs.count == 8 && line.finishReason == "length")
        let bench = try ProcessHarness.run(
            ["bench", "--model", model, "--prompt-tokens", "20", "--decode-tokens", "4", "--runs", "1", "--json", "--quantize", "int8"])
        #expect(bench.status == 0, "\(bench.standardError)")
        let json = try JSONSerialization.jsonObject(with: Data(bench.standardOutput.utf8)) as? [String: Any]
        #expect(json?["weight_d_type"] as? String == "int8 (from f32)", "\(bench.standardOutput)")
    }

    @Test func benchRunsOnATinyModel() throws {
        let outcome = try ProcessHarness.run(
            ["bench", "--model", Fixtures.model("llama-gqa").path, "--prompt-tokens", "20", "--decode-tokens", "4",
             "--runs", "1", "--json"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let json = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any]
        #expect((json?["prefill_tokens_per_second"] as? Double ?? 0) > 0)
        #expect((json?["decode_tokens_per_second"] as? Double ?? 0) > 0)
    }

    /// `--top-k 0` samples offline outputs from the whole row; a negative one is refused by name.
    @Test func benchSamplesFromTheWholeRowWithTopKZero() throws {
        let model = Fixtures.model("llama-gqa").path
        let outcome = try ProcessHarness.run(
            ["bench", "--model", model, "--workload", "offline", "--requests", "4", "--prompt-tokens", "8",
             "--output-tokens", "4", "--concurrency", "2", "--top-k", "0", "--runs", "1", "--json"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let json = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any]
        #expect(json?["sampling"] as? String == "temperature 1", "\(outcome.standardOutput)")
        let refused = try ProcessHarness.run(["bench", "--model", model, "--workload", "offline", "--top-k=-1"])
        #expect(refused.status != 0 && refused.standardError.contains("--top-k must be ≥ 0"), "\(refused.standardError)")
    }
}

/// `--prompt` (one request at a time) and `--prompts-file` (one batch) run on the same engine loop and sampling
/// path, so the same flags give the same tokens, penalties included.
@Suite struct SamplingFlagsCLITests {
    struct Line: Decodable {
        var tokenIDs: [Int32]
        enum CodingKeys: String, CodingKey { case tokenIDs = "token_ids" }
    }

    func tokens(_ outcome: ProcessHarness.Outcome) throws -> [Int32] {
        #expect(outcome.status == 0, "\(outcome.standardError)")
        return try JSONDecoder().decode(Line.self, from: Data(outcome.standardOutput.utf8)).tokenIDs
    }

    @Test func penaltiesApplyOnBothPathsAlike() throws {
        let reference = try ModelReference.load("llama-gqa").prompts[1]
        let model = Fixtures.model("llama-gqa").path
        let common = ["generate", "--model", model, "--max-tokens", "32", "--ignore-eos", "--json",
                      "--repetition-penalty", "1.8", "--frequency-penalty", "0.5"]
        let single = try tokens(try ProcessHarness.run(common + ["--prompt", reference.text]))
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("prompts.jsonl")
        let line = String(decoding: try JSONSerialization.data(withJSONObject: ["prompt": reference.text]), as: UTF8.self)
        try (line + "\n").write(to: file, atomically: true, encoding: .utf8)
        let batched = try tokens(try ProcessHarness.run(common + ["--prompts-file", file.path]))
        #expect(single == batched)
        #expect(single != reference.greedyTokenIDs, "penalties must change the greedy continuation")
    }
}
