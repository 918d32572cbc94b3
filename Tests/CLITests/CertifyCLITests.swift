import Certification
import Foundation
import Testing
import TestSupport

/// `radixserve certify` as a user runs it: the report table and JSON, the tensor-parallel check
/// with spawned ranks, exit status 1 when a check fails, and clear refusals of bad flags.
@Suite struct CertifyCLITests {
    @Test func certifiesTheCPUBackendWithTensorParallelRanksAndWritesJSON() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let json = directory.appendingPathComponent("report.json")
        let outcome = try ProcessHarness.run(
            ["certify", "--backend", "cpu", "--only", "models,engine", "--model", Fixtures.model("llama-tp4").path,
             "--threads", "1", "--json", json.path], timeout: 300)
        #expect(outcome.status == 0, "\(outcome.standardOutput)\(outcome.standardError)")
        #expect(outcome.standardOutput.contains("PASS  engine engine.tp2"), "\(outcome.standardOutput)")
        #expect(outcome.standardOutput.contains("PASSED:"))
        let report = try JSONDecoder().decode(CertificationReport.self, from: Data(contentsOf: json))
        #expect(report.passed && report.backend == "cpu" && report.sections == [.models, .engine])
        #expect(report.checks.first { $0.name == "engine.tp2" }?.status == .pass)
    }

    /// A reference that disagrees with the model (its first greedy token changed) fails the run
    /// with exit status 1, naming the model, the prompt and the step.
    @Test func aFailedCheckExitsWithStatusOneAndNamesTheDivergence() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = directory.appendingPathComponent("llama-gqa")
        try FileManager.default.copyItem(at: Fixtures.model("llama-gqa"), to: model)
        let referenceURL = model.appendingPathComponent("reference.json")
        var reference = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: referenceURL)) as? [String: Any])
        var prompts = try #require(reference["prompts"] as? [[String: Any]])
        var greedy = try #require(prompts[1]["greedy_token_ids"] as? [Int])
        greedy[3] = (greedy[3] + 1) % 100
        prompts[1]["greedy_token_ids"] = greedy
        reference["prompts"] = prompts
        try JSONSerialization.data(withJSONObject: reference).write(to: referenceURL)
        let outcome = try ProcessHarness.run(["certify", "--backend", "cpu", "--only", "models", "--model", model.path])
        #expect(outcome.status == 1, "\(outcome.standardOutput)\(outcome.standardError)")
        #expect(outcome.standardOutput.contains("FAIL  models llama-gqa.greedy"), "\(outcome.standardOutput)")
        #expect(outcome.standardOutput.contains("prompt 1"), "\(outcome.standardOutput)")
        #expect(outcome.standardOutput.contains("first diverging token at step 3"), "\(outcome.standardOutput)")
    }

    /// A checkpoint without a reference is refused before anything runs; one whose reference is
    /// not a reference file fails its models check, naming the file.
    @Test func aMissingOrMalformedReferenceIsNamed() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = directory.appendingPathComponent("llama-gqa")
        try FileManager.default.copyItem(at: Fixtures.model("llama-gqa"), to: model)
        let referenceURL = model.appendingPathComponent("reference.json")
        try FileManager.default.removeItem(at: referenceURL)
        let missing = try ProcessHarness.run(["certify", "--only", "models", "--model", model.path], timeout: 60)
        #expect(missing.status == 64, "\(missing.standardError)")
        #expect(missing.standardError.contains("no reference.json; write one with scripts/make-reference.py"),
            "\(missing.standardError)")

        try Data(#"{"prompts": [{"text": "hi"}]}"#.utf8).write(to: referenceURL)
        let malformed = try ProcessHarness.run(["certify", "--only", "models", "--model", model.path], timeout: 60)
        #expect(malformed.status == 1, "\(malformed.standardOutput)\(malformed.standardError)")
        #expect(malformed.standardOutput.contains("FAIL  models llama-gqa.reference"), "\(malformed.standardOutput)")
        #expect(malformed.standardOutput.contains("not a reference file"), "\(malformed.standardOutput)")
    }

    @Test(arguments: [
        (["--only", "ops,speed"], "--only: unknown section 'speed'"),
        (["--model", "/nonexistent/model"], "--model /nonexistent/model: no config.json there"),
        (["--model", Fixtures.root.appendingPathComponent("tokenizers/llama3-style").path], "no config.json"),
        (["--backend", "plugin:/nonexistent/libx.so"], "--backend:"),
        (["--baseline", "tpu"], "--baseline: unknown backend 'tpu'"),
        (["--min-ratio", "0"], "--min-ratio must be a positive number"),
        (["--threads=-1"], "--threads must be ≥ 0"),
    ])
    func refusesBadFlagsNamingThem(arguments: [String], message: String) throws {
        let outcome = try ProcessHarness.run(["certify"] + arguments, timeout: 60)
        #expect(outcome.status == 64, "\(outcome.standardError)")
        #expect(outcome.standardError.contains(message), "\(outcome.standardError)")
    }
}
