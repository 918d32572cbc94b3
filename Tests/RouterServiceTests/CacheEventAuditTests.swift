import Foundation
import Logging
import PageHashing
import ProcessLogging
import RouterCore
import RouterService
import ServingTypes
import TestSupport
import Testing
import Transport
import WireProtocol

/// The router notices a worker whose `stored` hashes never match the prompts it was sent, says so
/// once, shows it in `/workers` and `/metrics`, and stops crediting it with cached prefixes.
@Suite(.serialized) struct CacheEventAuditTests {
    let context: ZMQContext
    let coordinator: RouterCoordinator
    let log = LineSink.memory()

    init() throws {
        context = try ZMQContext()
        let sink = log
        coordinator = RouterCoordinator(
            config: RouterServiceConfig(
                workerEndpoint: "tcp://127.0.0.1:*", modelID: "fake", modelFingerprint: "fp", pageSize: 4, hashSeed: 0,
                maxModelLength: 4096, heartbeatInterval: .milliseconds(100), missedHeartbeatLimit: 300, maxAttempts: 3,
                seed: 1, logger: Logger(label: "router") { LineLogHandler(label: $0, sink: sink) }),
            context: context)
        try coordinator.start()
    }

    /// Serves `count` distinct 3-page prompts on `worker`, reporting each prompt's pages as
    /// stored with `hasher`'s chain (the router's chain is seed 0, page size 4).
    func serve(_ count: Int, on worker: FakeWorker, storingWith hasher: PageHasher, firstSequence: UInt64 = 1) async throws {
        for index in 0..<count {
            let prompt = (0..<13).map { Int32(100 * (index + 1) + $0) }
            // A starved test thread may have let the heartbeat limit pass: beat, and wait until the router saw it.
            try worker.heartbeat(sequence: firstSequence - 1 + UInt64(index))
            waitUntil { coordinator.workers().contains { $0.id == worker.workerID && $0.isRoutable } }
            let handle = try coordinator.submit(RoutedRequest(tokenIDs: prompt, params: SamplingParams(maxTokens: 1, temperature: 0)))
            let submit = try #require(try worker.nextSubmit(), "request \(index) was not dispatched")
            try worker.complete(submit, tokens: [5])
            let sequence = firstSequence + UInt64(index)
            try worker.send(.kvEvents(KVEventBatch(incarnation: worker.incarnation, sequence: sequence, events: [
                .stored(namespace: 0, parentHash: nil, pageHashes: hasher.chain(prompt[...], namespace: 0))
            ])))
            try worker.heartbeat(sequence: sequence)
            for try await _ in handle.updates {}
        }
    }

    func waitUntil(timeout: Duration = .seconds(60), _ condition: () -> Bool) {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !condition() && ContinuousClock.now < deadline { usleep(5_000) }
    }

    func worker(_ id: UInt32) throws -> FakeWorker {
        let worker = try FakeWorker(context: context, endpoint: coordinator.boundWorkerEndpoint, workerID: id)
        #expect(try worker.register())
        // A loaded CI host can take seconds to run the router's thread.
        waitUntil { coordinator.workers().contains { $0.id == id && $0.isRoutable } }
        try #require(coordinator.workers().contains { $0.id == id && $0.isRoutable }, "worker \(id) never became routable")
        return worker
    }

    func status(_ id: UInt32) -> String? { coordinator.workers().first { $0.id == id }?.cacheEvents }

    @Test func aWorkerHashingWithAnotherSeedIsUntrustedOnceLoggedAndShown() async throws {
        defer { coordinator.shutdown() }
        let wrong = try worker(1)
        try await serve(3, on: wrong, storingWith: PageHasher(seed: 99, pageSize: 4))
        #expect(status(1) == "unverified", "no verdict before 4 completed prompts")
        try await serve(2, on: wrong, storingWith: PageHasher(seed: 99, pageSize: 4), firstSequence: 4)
        waitUntil { status(1) == "untrusted" }
        #expect(status(1) == "untrusted")
        #expect(coordinator.metricsText().contains(#"radixserve_worker_cache_events_untrusted{worker="1"} 1.0"#))
        let lines = log.written.filter { $0.contains("cache events do not match") }
        #expect(lines.count == 1, "logged once: \(log.written)")
        #expect(lines.first?.contains("worker-1") == true && lines.first?.contains("hash seed 0") == true)
        // Still routable, by load: it keeps serving.
        #expect(coordinator.workers().first?.isRoutable == true)
    }

    @Test func aWorkerHashingAsTheRouterDoesIsVerified() async throws {
        defer { coordinator.shutdown() }
        let right = try worker(2)
        try await serve(1, on: right, storingWith: PageHasher(seed: 0, pageSize: 4))
        waitUntil { status(2) == "verified" }
        #expect(status(2) == "verified")
        #expect(coordinator.metricsText().contains(#"radixserve_worker_cache_events_untrusted{worker="2"} 0.0"#))
    }
}
