import Foundation
import Testing
import TestSupport
import WorkerConformance

/// The conformance kit against a scripted in-process worker: a correct one passes every check;
/// each deliberate fault fails the check that covers it, naming the problem.
@Suite struct WorkerConformanceTests {
    /// Runs the kit (listening on a fresh `ipc://` path) against a scripted worker with `faults`.
    func report(faults: WorkerFaults = []) async throws -> ConformanceReport {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let endpoint = "ipc://\(directory.path)/r.sock"
        return try await onOwnThread {
            let kit = try WorkerConformance(options: WorkerConformanceOptions(endpoint: .listen(endpoint), timeout: .seconds(5)))
            return kit.run(worker: ScriptedWorker(endpoint: endpoint, faults: faults))
        }
    }

    func outcome(_ check: ConformanceCheck, in report: ConformanceReport) -> CheckOutcome {
        report.outcomes.first { $0.check == check }!
    }

    @Test func aCorrectWorkerPassesEveryCheck() async throws {
        let report = try await report()
        #expect(report.outcomes.allSatisfy { $0.verdict == .pass }, "\(report.text)")
        #expect(report.summary == "16 passed, 0 failed, 0 skipped")
        #expect(report.isPassing)
    }

    @Test func storedHashesWithoutTheNamespaceFailKVEvents() async throws {
        let report = try await report(faults: .chainWithoutNamespace)
        let kvEvents = outcome(.kvEvents, in: report)
        #expect(kvEvents.verdict == .fail, "\(report.text)")
        #expect(kvEvents.detail.contains("is not the chain hash of any token sequence the kit sent in that namespace"), "\(report.text)")
        #expect(!report.isPassing)
    }

    @Test func aStopTokenLeftOutOfCompletionTokensFailsStopToken() async throws {
        let report = try await report(faults: .uncountedStopToken)
        let stopToken = outcome(.stopToken, in: report)
        #expect(stopToken.verdict == .fail, "\(report.text)")
        #expect(stopToken.detail.contains("completionTokens 1, but 2 tokens were sent"), "\(report.text)")
        #expect(outcome(.generate, in: report).verdict == .pass)
    }

    @Test func aSkippedBatchSequenceFailsKVEvents() async throws {
        let report = try await report(faults: .skippedSequence)
        let kvEvents = outcome(.kvEvents, in: report)
        #expect(kvEvents.verdict == .fail, "\(report.text)")
        #expect(kvEvents.detail.contains("batch sequence 3 follows 1 (expected 2)"), "\(report.text)")
    }

    @Test func aSilentEndpointFailsRegistrationAndSkipsTheRest() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let report = try await onOwnThread {
            let options = WorkerConformanceOptions(endpoint: .listen("ipc://\(directory.path)/r.sock"), timeout: .milliseconds(300))
            return try WorkerConformance(options: options).run()
        }
        #expect(report.text.hasPrefix("FAIL  registration  no register within 0.3 seconds\n"), "\(report.text)")
        #expect(report.summary == "0 passed, 1 failed, 15 skipped")
    }
}
