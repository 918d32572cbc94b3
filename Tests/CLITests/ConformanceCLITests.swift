import Foundation
import Testing
import TestSupport

/// `radixserve conformance worker` against the built Swift worker, which it starts itself, in both
/// connection modes (every check passes, the drain included), and its flag errors.
@Suite struct ConformanceCLITests {
    static let model = Fixtures.model("llama-gqa").path
    static let worker = [ProcessHarness.executable.path, "worker", "--model", model, "--kv-memory", "8M", "--threads", "1"]

    /// Runs the kit with `kitFlags`, starting the worker with `workerFlags`; expects every check to pass.
    func expectEveryCheckPasses(kitFlags: (String) -> [String], workerFlags: (String) -> [String]) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let endpoint = "ipc://\(directory.path)/conformance.sock"
        let outcome = try ProcessHarness.run(
            ["conformance", "worker"] + kitFlags(endpoint) + ["--model", Self.model, "--"] + Self.worker + workerFlags(endpoint),
            timeout: 300)
        let lines = outcome.standardOutput.split(separator: "\n").map(String.init)
        #expect(outcome.status == 0, "\(outcome.standardOutput)\n\(outcome.standardError)")
        #expect(lines.count == 17 && lines.dropLast().allSatisfy { $0.hasPrefix("PASS  ") }, "\(outcome.standardOutput)")
        #expect(lines.contains { $0.hasPrefix("PASS  drain  draining (deadline 30000 ms)") }, "\(outcome.standardOutput)")
        #expect(lines.last == "16 passed, 0 failed, 0 skipped")
    }

    @Test func theSwiftWorkerPassesWhenItConnectsToTheKit() throws {
        try expectEveryCheckPasses(kitFlags: { ["--listen", $0] }, workerFlags: { ["--router", $0, "--worker-id", "9"] })
    }

    @Test func theSwiftWorkerPassesWhenTheKitConnectsToIt() throws {
        try expectEveryCheckPasses(kitFlags: { ["--connect", $0] }, workerFlags: { ["--listen", $0] })
    }

    @Test(arguments: [
        ([], "give exactly one of --connect ENDPOINT"),
        (["--connect", "ipc:///tmp/a", "--listen", "ipc:///tmp/b"], "give exactly one of --connect ENDPOINT"),
        (["--listen", "tcp://127.0.0.1"], "--listen 'tcp://127.0.0.1' is not an endpoint like tcp://HOST:PORT or ipc://PATH"),
        (["--connect", "udp://127.0.0.1:5555"], "--connect 'udp://127.0.0.1:5555' is not an endpoint"),
        (["--listen", "ipc:///tmp/x", "--model", "/nonexistent/model"], "--model: cannot read the model in /nonexistent/model"),
        (["--listen", "ipc:///tmp/x", "--model", model, "--vocab-size", "50"], "--vocab-size cannot be combined with --model"),
        (["--listen", "ipc:///tmp/x", "--vocab-size", "3"], "--vocab-size must be at least 4, got 3"),
        (["--listen", "ipc:///tmp/x", "--timeout", "0"], "--timeout must be in (0, 86400] seconds, got 0.0"),
        (["--listen", "ipc:///tmp/rxs-conformance-bad-command", "--", "no-such-worker-command"],
         "worker command 'no-such-worker-command' is not an executable file or a program in PATH"),
    ])
    func badFlagsFailWithAMessageNamingTheProblem(flags: [String], expected: String) throws {
        let outcome = try ProcessHarness.run(["conformance", "worker"] + flags, timeout: 30)
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains(expected), "\(outcome.standardError)")
        #expect(outcome.standardOutput.isEmpty, "no report for flags that are refused")
    }
}
