import Foundation
import ServingClient
import ServingTypes
import Testing
import TestSupport

/// `examples/python-worker`, a worker written in Python from docs/WIRE_PROTOCOL.md alone: its codec
/// against the golden frames, two of them behind a real router, and the conformance kit against it.
/// Needs python3 with pyzmq and xxhash (scripts/setup.sh installs them); without them the tests fail saying so.
@Suite(.serialized) struct PythonWorkerTests {
    static let directory = Fixtures.demoModel.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/python-worker")
    static let worker = directory.appendingPathComponent("worker.py").path
    static let env = URL(fileURLWithPath: "/usr/bin/env")

    /// Runs `python3 arguments…` to completion; standard output and error together.
    static func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let run = try Python.run(arguments)
        return (run.status, run.output + run.error)
    }

    /// Whether python3 imports xxhash (the page hashes) and, for a running worker, pyzmq; records an issue
    /// naming scripts/setup.sh when it does not.
    static func requirementsInstalled(socket: Bool = true) throws -> Bool {
        try Python.requireModule("xxhash", package: "xxhash") && (!socket || Python.requireModule("zmq", package: "pyzmq"))
    }

    /// The fields of a `POST /generate` answer this test reads.
    struct Generated: Decodable {
        struct Meta: Decodable {
            var promptTokens: Int
            var cachedTokens: Int
            enum CodingKeys: String, CodingKey {
                case promptTokens = "prompt_tokens"
                case cachedTokens = "cached_tokens"
            }
        }
        var outputIDs: [Int]
        var metaInfo: Meta
        enum CodingKeys: String, CodingKey {
            case outputIDs = "output_ids"
            case metaInfo = "meta_info"
        }
    }

    static func generate(_ client: RouterClient, _ prompt: [Int]) throws -> Generated {
        let body = try JSONSerialization.data(withJSONObject: [
            "input_ids": prompt, "sampling_params": ["max_new_tokens": 8, "temperature": 0, "ignore_eos": true],
        ])
        let response = try client.http.send("POST", "/generate", json: body)
        guard response.status == 200 else {
            throw ClusterError("POST /generate → \(response.status): \(String(decoding: response.body, as: UTF8.self))")
        }
        return try JSONDecoder().decode(Generated.self, from: response.body)
    }

    @Test func checkVectorsDecodesAndReencodesEveryGoldenFrame() throws {
        guard try Self.requirementsInstalled(socket: false) else { return }
        let (status, output) = try Self.python([Self.directory.appendingPathComponent("check_vectors.py").path])
        #expect(status == 0, "\(output)")
        #expect(output.contains("all checks passed"), "\(output)")
    }

    @Test func twoPythonWorkersBehindARealRouterServeRepeatsFromTheirCaches() throws {
        guard try Self.requirementsInstalled() else { return }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let endpoint = "ipc://" + directory.appendingPathComponent("workers").path
        let router = try ChildProcess([
            "router", "--model", Fixtures.demoModel.path, "--http-port", "0", "--worker-endpoint", endpoint,
            "--heartbeat-ms", "100", "--router-seed", "7",
        ])
        var workers: [ChildProcess] = []
        defer {
            for worker in workers { worker.signal(SIGKILL) }
            router.signal(SIGKILL)
        }
        let line = try #require(router.outputLine(containing: "serving", timeout: 60), "\(router.standardError)")
        let url = try #require(line.range(of: #"http://[0-9.]+:[0-9]+"#, options: .regularExpression).map { String(line[$0]) })
        let client = RouterClient(url: try ServingURL(url), readTimeout: .seconds(120))
        for id in 1...2 {
            workers.append(try ChildProcess(
                ["python3", Self.worker, "--router", endpoint, "--model", Fixtures.demoModel.path, "--worker-id", "\(id)"],
                executable: Self.env))
        }
        let ready = router.wait(until: { (try? client.workers().filter(\.isRoutable).count) == 2 }, timeout: 60)
        try #require(ready, "the Python workers did not become routable: \(workers.map(\.standardError)) \(router.standardError)")
        #expect(try client.workers().map(\.id).sorted() == [1, 2])

        // Eight distinct prompts of 50 tokens (3 whole pages) at once, so both workers get some.
        let prompts = (0..<8).map { index in (0..<50).map { 100 + index * 60 + $0 } }
        let results = GeneratedResults()
        DispatchQueue.concurrentPerform(iterations: prompts.count) { index in
            results.record(index, Result { try Self.generate(client, prompts[index]) })
        }
        #expect(results.failures.isEmpty, "\(results.failures)")
        let metrics = try client.metrics()
        for worker in 1...2 {
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("sgl_router_processed_requests_total{worker=\"\(worker)\"}") }
            let count = line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
            #expect(count >= 1, "worker \(worker) served no prompt:\n\(metrics)")
        }
        usleep(300_000)  // the workers' `stored` batches reach the router's index

        // Each prompt again: served from the cache of the worker holding it (every page cached but
        // the one with the last prompt token: 16 · ⌊49 / 16⌋ = 48), with the same greedy tokens.
        for (index, prompt) in prompts.enumerated() {
            let first = try #require(results.outputs[index])
            let again = try Self.generate(client, prompt)
            #expect(first.metaInfo.cachedTokens == 0, "prompt \(index) was cached on its first send")
            #expect(again.metaInfo.cachedTokens == 48, "prompt \(index) missed the worker caching it: \(again.metaInfo)")
            #expect(again.metaInfo.promptTokens == 50)
            #expect(again.outputIDs == first.outputIDs && first.outputIDs.count == 8)
        }
        // The router's audit matched both workers' stored page hashes to the prompts it sent.
        let list = try JSONSerialization.jsonObject(with: client.http.send("GET", "/workers").body) as? [String: Any]
        let audit = (list?["workers"] as? [[String: Any]] ?? []).map { "\($0["id"] ?? "?"):\($0["cache_events"] ?? "?")" }
        #expect(audit.sorted() == ["1:verified", "2:verified"], "\(audit)")
        for worker in workers { #expect(worker.process.isRunning, "\(worker.standardError)") }
    }

    @Test func theConformanceKitPassesAgainstThePythonWorker() throws {
        guard try Self.requirementsInstalled() else { return }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let endpoint = "ipc://" + directory.appendingPathComponent("kit").path
        let outcome = try ProcessHarness.run([
            "conformance", "worker", "--listen", endpoint, "--model", Fixtures.demoModel.path, "--",
            "python3", Self.worker, "--router", endpoint, "--model", Fixtures.demoModel.path,
        ], timeout: 300)
        let lines = outcome.standardOutput.split(separator: "\n")
        #expect(outcome.status == 0, "\(outcome.standardOutput)\n\(outcome.standardError)")
        #expect(!lines.isEmpty && !lines.contains { $0.hasPrefix("FAIL") }, "\(outcome.standardOutput)")
        #expect(lines.contains { $0.hasPrefix("PASS  drain") }, "\(outcome.standardOutput)")
    }
}

/// `POST /generate` answers gathered from several threads, by prompt index.
final class GeneratedResults: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private(set) var outputs: [Int: PythonWorkerTests.Generated] = [:]
    private(set) var failures: [String] = []

    func record(_ index: Int, _ result: Result<PythonWorkerTests.Generated, any Error>) {
        lock.withLock {
            switch result {
            case .success(let generated): outputs[index] = generated
            case .failure(let error): failures.append("prompt \(index): \(error)")
            }
        }
    }
}
