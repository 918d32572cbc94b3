import ArgumentParser
import BackendCatalog
import Certification
import Foundation
import Logging
import Models

/// `radixserve certify`: a backend's ops against the reference device, its outputs on checkpoints
/// against transformers, engine properties on it, and its speed against a baseline
/// (``Certifier``; docs/CERTIFY.md).
struct CertifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certify",
        abstract: "Check a backend's ops, model outputs, engine properties and speed; exit status 1 on any failure.")

    @Option(help: "Backend under test: \(BackendCatalog.usage).")
    var backend: String = BackendCatalog.defaultName()
    @Option(name: .customLong("model"), help: """
        Checkpoint directory with a reference.json (repeatable; the engine and perf sections use the first). \
        Default: the bundled demo model, then the test fixtures.
        """)
    var models: [String] = []
    @Option(help: "Backend the performance is compared with.")
    var baseline = "cpu"
    @Option(help: "Also write the report as JSON to this file.")
    var json: String?
    @Option(help: "Only these sections, comma-separated: ops, models, engine, perf.")
    var only: String?
    @Flag(help: "More shapes, longer generations and performance runs (the default is a quick run sized for CI).")
    var full = false
    @Option(help: "Compute threads of each backend (0 = one per core).")
    var threads = 0
    @Option(help: "Fail a performance check whose ratio to the baseline is below this (default: measure only).")
    var minRatio: Double?

    func run() throws {
        let logger = Logger(label: "radixserve")
        let plan: CertificationPlan
        do {
            plan = try CertificationPlan(
                backend: backend, baseline: baseline, models: models,
                defaultModels: CertificationPlan.defaultModels(demo: URL(fileURLWithPath: BundledModel.defaultPath)),
                only: only, isFull: full, threads: threads, minimumRatio: minRatio) { logger.info("\($0)") }
        } catch let error as CertificationPlanError {
            throw ValidationError(error.description)
        }
        let report = Certifier.run(plan)
        StandardOutput.write(report.table)
        if let json { try report.json().write(to: URL(fileURLWithPath: json)) }
        if !report.passed { throw ExitCode.failure }
    }
}
