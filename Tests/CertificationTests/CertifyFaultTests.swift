import BackendCatalog
import Backends
import Certification
import Foundation
import Testing
import TestSupport

/// `certify` passes on the in-tree backends and catches the faults a new backend typically has,
/// naming the model and the first diverging token, or the request that differs when batched (a
/// perturbed op: `OpCertificationTests`).
@Suite struct CertifyFaultTests {
    static func plan(
        _ device: any ComputeDevice, _ sections: [CertificationSection], models: [String] = ["llama-gqa"]
    ) throws -> CertificationPlan {
        CertificationPlan(
            backendName: device.name, device: device, baselineName: "cpu",
            baselineDevice: try BackendCatalog.device(named: "cpu"), referenceDevice: try BackendCatalog.device(named: "reference"),
            models: models.map(Fixtures.model), sections: sections, threads: 1)
    }

    static func certify(_ plan: CertificationPlan) async throws -> CertificationReport {
        try await onOwnThread { Certifier.run(plan) }
    }

    static func failures(_ report: CertificationReport) -> [CertificationCheck] {
        report.checks.filter { $0.status == .fail }
    }

    /// The reference device (plain loops, slow in a debug build) on one fixture, the others on two.
    @Test(arguments: [
        ("cpu", ["llama-gqa", "qwen3-qknorm"]), ("reference", ["llama-gqa"]),
        (Fixtures.referencePluginBackend, ["llama-gqa", "qwen3-qknorm"]),
    ])
    func passesOnTheInTreeBackends(backend: String, models: [String]) async throws {
        let report = try await Self.certify(
            try Self.plan(try BackendCatalog.device(named: backend), [.models, .engine], models: models))
        #expect(report.passed, "\(report.table)")
        for model in models {
            #expect(report.checks.contains { $0.name == "\(model).greedy" && $0.status == .pass })
            #expect(report.checks.contains { $0.name == "\(model).step-top5" && $0.status == .pass })
        }
        #expect(report.checks.first { $0.name == "engine.retraction" }?.values["retractions"] ?? 0 > 0)
        // Ranks cannot be spawned from the test process: the TP check says so instead of passing.
        #expect(report.checks.first { $0.name == "engine.tp2" }?.status == .skip)
    }

    @Test func anOffByOnePageTableFailsTheModelAtItsFirstDivergingToken() async throws {
        let report = try await Self.certify(try Self.plan(FaultyDevice(.pageTableOffByOne), [.ops, .models]))
        let failed = Self.failures(report).map(\.name)
        #expect(failed.contains { $0.hasPrefix("attention.") }, "\(report.table)")
        #expect(!failed.contains { $0.hasPrefix("matmul.") }, "\(report.table)")
        #expect(failed.contains("llama-gqa.greedy"), "\(report.table)")
        #expect(failed.contains("llama-gqa.logits"), "\(report.table)")
        let greedy = try #require(report.checks.first { $0.name == "llama-gqa.greedy" })
        #expect(greedy.detail.contains("first diverging token at step"), "\(greedy.detail)")
        #expect(!report.passed)
    }

    @Test func aDeviceWrongOnlyWhenBatchedPassesModelsButFailsBatchInvariance() async throws {
        let report = try await Self.certify(try Self.plan(FaultyDevice(.wrongWhenBatched), [.models, .engine]))
        let failed = Self.failures(report).map(\.name)
        #expect(!failed.contains { $0.hasPrefix("llama-gqa.") }, "one request at a time is right: \(report.table)")
        #expect(failed.contains("engine.batch-invariance"), "\(report.table)")
        let check = try #require(report.checks.first { $0.name == "engine.batch-invariance" })
        #expect(check.detail.contains("first differs at token"), "\(check.detail)")
    }

    /// The JSON report decodes back, states every check, and its verdict is the checks'.
    @Test func theJSONReportRoundTrips() async throws {
        let report = try await Self.certify(try Self.plan(FaultyDevice(.wrongWhenBatched), [.engine]))
        let decoded = try JSONDecoder().decode(CertificationReport.self, from: try report.json())
        #expect(decoded.checks == report.checks)
        #expect(decoded.passed == false && decoded.format == 1 && decoded.sections == [.engine])
        let object = try #require(try JSONSerialization.jsonObject(with: try report.json()) as? [String: Any])
        for key in ["format", "backend", "device", "capabilities", "baseline", "mode", "sections", "models", "startedAt",
            "seconds", "checks", "passed"] {
            #expect(object[key] != nil, "missing \(key)")
        }
    }
}
