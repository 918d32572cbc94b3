import Foundation
import Testing
import TestSupport

/// `radixserve worker` flag handling: bad values fail before anything loads, naming the flag, and
/// a worker whose router never answers gives up with a clear message.
@Suite struct WorkerCLITests {
    static let model = Fixtures.model("llama-gqa").path

    @Test(arguments: [
        ([], "exactly one of --router"),
        (["--router", "tcp://127.0.0.1:5555", "--listen", "tcp://127.0.0.1:5556"], "exactly one of --router"),
        (["--router", "127.0.0.1:5555"], "--router '127.0.0.1:5555'"),
        (["--router", "tcp://127.0.0.1"], "--router 'tcp://127.0.0.1'"),
        (["--router", "tcp://127.0.0.1:70000"], "--router"),
        (["--router", "tcp://127.0.0.1:*"], "--router"),
        (["--listen", "udp://0.0.0.0:5555"], "--listen 'udp://0.0.0.0:5555'"),
        (["--listen", "ipc://"], "--listen"),
        (["--router", "tcp://127.0.0.1:5555", "--worker-id", "0"], "--worker-id"),
        (["--router", "tcp://127.0.0.1:5555", "--worker-id", "seven"], "--worker-id"),
        (["--router", "tcp://127.0.0.1:5555", "--worker-id", "4294967296"], "--worker-id"),
        (["--router", "tcp://127.0.0.1:5555", "--kv-memory", "lots"], "--kv-memory 'lots'"),
        (["--router", "tcp://127.0.0.1:5555", "--kv-memory", "0.95"], "--kv-memory"),
        (["--router", "tcp://127.0.0.1:5555", "--registration-timeout", "0"], "--registration-timeout"),
        (["--router", "tcp://127.0.0.1:5555", "--drain-timeout=-1"], "--drain-timeout must be in 0...86400"),
        (["--router", "tcp://127.0.0.1:5555", "--drain-timeout", "nan"], "--drain-timeout"),
        (["--router", "tcp://127.0.0.1:5555", "--metrics-port", "70000"], "--metrics-port must be in 0...65535, got 70000"),
        (["--router", "tcp://127.0.0.1:5555", "--tp", "0"], "--tp"),
        (["--router", "tcp://127.0.0.1:5555", "--tp-stats"], "--tp-stats"),
    ])
    func invalidFlagsFailWithAMessageNamingTheFlag(flags: [String], expected: String) throws {
        let outcome = try ProcessHarness.run(["worker", "--model", Self.model] + flags, timeout: 30)
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains(expected), "\(outcome.standardError)")
        #expect(!outcome.standardError.contains("registered"))
    }

    @Test func missingModelNamesTheDirectory() throws {
        let outcome = try ProcessHarness.run(["worker", "--router", "tcp://127.0.0.1:5555", "--model", "/nonexistent/model"])
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains("/nonexistent/model"), "\(outcome.standardError)")
    }

    @Test func silentRouterEndsRegistrationWithAnError() throws {
        let endpoint = "ipc:///tmp/rxs-no-router-\(UUID().uuidString.prefix(8))"
        let start = Date()
        let outcome = try ProcessHarness.run(
            ["worker", "--router", endpoint, "--model", Self.model, "--kv-memory", "1M", "--threads", "1",
             "--registration-timeout", "1"], timeout: 60)
        #expect(outcome.status == 1)
        #expect(outcome.standardError.contains("no answer from the router at \(endpoint)"), "\(outcome.standardError)")
        #expect(Date().timeIntervalSince(start) < 30)
    }
}
