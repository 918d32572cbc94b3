import Certification
import Engine
import Foundation
import Models
import PageHashing
import ServingClient
import ServingTypes
import Testing
import TestSupport
import Transport
import WireProtocol

/// The built `radixserve worker` executable against a fake router: registration, serving, cache
/// events, refusal, listening, tensor parallelism and graceful shutdown.
@Suite(.serialized) struct WorkerCommandTests {
    static let model = Fixtures.model("llama-gqa")

    static func worker(_ connection: [String], extra: [String] = []) throws -> ChildProcess {
        try ChildProcess(
            ["worker", "--model", model.path, "--page-size", "4", "--kv-memory", "1M", "--threads", "1",
             "--worker-id", "42"] + connection + extra)
    }

    /// Runs the reference prompts greedily and checks the tokens and the `stored` events they cause.
    static func expectServesReferenceTokens(_ router: FakeRouter) throws {
        let reference = try ModelReference.load("llama-gqa")
        var stored: Set<UInt64> = []
        for (index, prompt) in reference.prompts.prefix(2).enumerated() {
            let id = UInt64(index + 1)
            try router.send(.submit(WorkerSubmit(
                requestID: id, tokenIDs: prompt.promptTokenIDs,
                params: SamplingParams(maxTokens: 32, temperature: 0, ignoreEOS: true))))
            var tokens: [Int32] = []
            let finish = try router.receive { message -> RequestFinish? in
                switch message {
                case .tokens(let outputs):
                    for output in outputs where output.requestID == id { tokens += output.tokenIDs }
                case .kvEvents(let batch):
                    for case .stored(_, _, let hashes) in batch.events { stored.formUnion(hashes) }
                case .finished(let finish) where finish.requestID == id:
                    return finish
                default:
                    break
                }
                return nil
            }
            #expect(finish?.reason == .length)
            #expect(tokens == prompt.greedyTokenIDs)
        }
        // The first request's pages (published after its finish) name its prompt's prefixes.
        let first = reference.prompts[0]
        let hashes = PageHasher(seed: 0, pageSize: 4).chain(first.promptTokenIDs[...], namespace: 0)
        #expect(!hashes.isEmpty && stored.isSuperset(of: hashes))
    }

    @Test func registersServesAndStopsGracefullyOnSIGTERM() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try Self.worker(["--router", router.endpoint])
        defer { _ = worker.finish(timeout: 1) }
        let registration = try #require(try router.acceptRegistration())
        #expect(registration.workerID == 42 && registration.pageSize == 4 && registration.tensorParallelSize == 1)
        #expect(registration.modelID == "llama-gqa")
        let checkpoint = try Checkpoint(directory: Self.model)
        #expect(registration.modelFingerprint == (try ModelFingerprint.compute(directory: Self.model, checkpoint: checkpoint)))
        #expect(worker.wait(until: { worker.standardError.contains("registered with \(router.endpoint) as worker 42") }, timeout: 10))
        try Self.expectServesReferenceTokens(router)
        kill(worker.process.processIdentifier, SIGTERM)
        #expect(worker.finish(timeout: 20) == 0, "\(worker.standardError)")
        #expect(worker.standardError.contains("received SIGTERM; shutting down"), "\(worker.standardError)")
    }

    /// A first signal drains: the worker says `draining` and keeps running its requests; a second
    /// one leaves at once, saying what stays unfinished.
    @Test func aSecondSignalEndsTheDrainAtOnce() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        // One request at a time: the drain cannot end on its own before the second signal, however
        // late this test's thread gets to send the first.
        let worker = try Self.worker(["--router", router.endpoint], extra: ["--drain-timeout", "600", "--max-running-requests", "1"])
        defer { _ = worker.finish(timeout: 1) }
        _ = try #require(try router.acceptRegistration())
        for id in 1...64 {
            try router.send(.submit(WorkerSubmit(
                requestID: UInt64(id), tokenIDs: [1, 2, 3], params: SamplingParams(maxTokens: 480, temperature: 0, ignoreEOS: true))))
        }
        let streaming = try router.receive { message -> Bool? in
            if case .tokens = message { return true }
            return nil
        }
        #expect(streaming == true)
        kill(worker.process.processIdentifier, SIGTERM)
        let draining = try router.receive { message -> UInt32? in
            if case .draining(let deadline) = message { return deadline }
            return nil
        }
        #expect(draining == 600_000)
        #expect(worker.process.isRunning, "the worker left although its request still runs")
        kill(worker.process.processIdentifier, SIGINT)
        #expect(worker.finish(timeout: 20) == 0, "\(worker.standardError)")
        #expect(worker.standardError.contains("received SIGTERM; shutting down"), "\(worker.standardError)")
        #expect(worker.standardError.contains("second signal: leaving with"), "\(worker.standardError)")
    }

    /// A client of the HTTP server a worker started with `--metrics-port 0` announced.
    static func metricsClient(of worker: ChildProcess) throws -> ServingHTTPClient {
        #expect(worker.wait(until: { worker.standardError.contains("serving metrics on") }, timeout: 30), "\(worker.standardError)")
        let words = worker.standardError.split(whereSeparator: \.isWhitespace)
        let url = try #require(words.first { $0.hasPrefix("http://") && $0.hasSuffix("/metrics") })
        return ServingHTTPClient(url: try ServingURL(String(url.dropLast("/metrics".count))))
    }

    /// `--metrics-port`: readiness follows registration, and the engine's figures are exported
    /// with the worker's id.
    @Test func metricsPortServesHealthAndTheEngineFigures() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try Self.worker(["--router", router.endpoint], extra: ["--metrics-port", "0"])
        defer { _ = worker.finish(timeout: 1) }
        let client = try Self.metricsClient(of: worker)
        _ = try #require(try router.acceptRegistration())
        #expect(worker.wait(until: { worker.standardError.contains("registered with") }, timeout: 10))
        #expect(try client.send("GET", "/health").status == 200)
        try Self.expectServesReferenceTokens(router)
        // The engine publishes its load after the step that sent the last token, so the figures
        // can trail the finished message by a moment on a loaded machine: scrape until they show it.
        var metrics = try client.send("GET", "/metrics")
        let deadline = ContinuousClock.now + .seconds(10)
        while !metrics.text.contains("sglang:num_running_reqs{worker=\"42\"} 0") && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            metrics = try client.send("GET", "/metrics")
        }
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("sglang:num_running_reqs{worker=\"42\"} 0"), "\(metrics.text)")
        #expect(metrics.text.contains("sglang:generation_tokens_total{worker=\"42\"} 64"), "\(metrics.text)")
        #expect(metrics.text.contains("radixserve_worker_registered{worker=\"42\"} 1"), "\(metrics.text)")
        // Totals are counters: a second scrape adds nothing when nothing ran.
        #expect(try client.send("GET", "/metrics").text.contains("sglang:generation_tokens_total{worker=\"42\"} 64"))
        kill(worker.process.processIdentifier, SIGTERM)
        #expect(worker.finish(timeout: 20) == 0, "\(worker.standardError)")
    }

    /// Before the router accepts it, a worker is not ready.
    @Test func healthIsUnavailableUntilRegistered() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try Self.worker(["--router", router.endpoint], extra: ["--metrics-port", "0"])
        defer { _ = worker.finish(timeout: 1) }
        let health = try Self.metricsClient(of: worker).send("GET", "/health")
        #expect(health.status == 503 && health.text == "not registered\n")
    }

    @Test func refusedWorkerExitsWithTheReason() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try Self.worker(["--router", router.endpoint])
        defer { _ = worker.finish(timeout: 1) }
        _ = try #require(try router.receive { message -> WorkerRegistration? in
            if case .register(let registration) = message { return registration }
            return nil
        })
        try router.send(.refused(reason: "model fingerprint differs"))
        let status = worker.finish(timeout: 20)
        #expect(status != nil && status != 0)
        #expect(worker.standardError.contains("the router refused this worker: model fingerprint differs"), "\(worker.standardError)")
    }

    @Test func listeningWorkerServesARouterThatConnectsToIt() throws {
        let context = try ZMQContext()
        let endpoint = FakeRouter.uniqueEndpoint()
        let worker = try Self.worker(["--listen", endpoint])
        defer { _ = worker.finish(timeout: 1) }
        #expect(worker.wait(until: { worker.standardError.contains("listening on \(endpoint)") }, timeout: 30), "\(worker.standardError)")
        let router = try FakeRouter(context: context, connectingTo: endpoint)
        let registration = try #require(try router.acceptRegistration())
        #expect(registration.workerID == 42 && router.peer == [42, 0, 0, 0])
        try Self.expectServesReferenceTokens(router)
        kill(worker.process.processIdentifier, SIGINT)
        #expect(worker.finish(timeout: 20) == 0, "\(worker.standardError)")
    }

    /// Rank 0 drives the batched engine; with a 2-second collectives timeout, an idle spell three
    /// times as long only survives if the idle engine keeps its follower alive.
    @Test func tensorParallelWorkerKeepsItsRankAliveWhileIdle() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try Self.worker(["--router", router.endpoint], extra: ["--tp", "2", "--tp-timeout", "2"])
        defer { _ = worker.finish(timeout: 1) }
        let registration = try #require(try router.acceptRegistration())
        #expect(registration.tensorParallelSize == 2)
        let ranks = worker.rankPIDs
        #expect(ranks.count == 1)
        usleep(6_000_000)
        #expect(ranks.allSatisfy(ChildProcess.isAlive), "\(worker.standardError)")
        try Self.expectServesReferenceTokens(router)
        kill(worker.process.processIdentifier, SIGTERM)
        #expect(worker.finish(timeout: 20) == 0, "\(worker.standardError)")
        for pid in ranks { #expect(!ChildProcess.isAlive(pid), "rank pid \(pid) outlived its worker") }
    }
}
