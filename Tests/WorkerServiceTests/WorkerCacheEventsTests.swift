import Certification
import Foundation
import PageHashing
import ServingTypes
import Testing
import TestSupport
import Transport
import WireProtocol
import WorkerService

/// The worker's cache events and snapshots as the router receives them: real engine output over
/// the DEALER socket, replayed the way the router's global index does.
@Suite(.serialized) struct WorkerCacheEventsTests {
    /// The router's view of one worker: page hash → parent hash, from batches applied in order.
    struct RouterView: Equatable {
        var pages: [UInt64: UInt64?] = [:]
        var sequence: UInt64 = 0

        /// Applies a batch; records an issue on a sequence gap.
        mutating func apply(_ batch: KVEventBatch) {
            #expect(batch.sequence == sequence + 1, "batch \(batch.sequence) after \(sequence)")
            sequence = batch.sequence
            for event in batch.events {
                switch event {
                case .stored(_, let parent, let hashes):
                    if let parent { #expect(pages[parent] != nil, "stored under an unknown parent") }
                    var above = parent
                    for hash in hashes {
                        pages[hash] = above
                        above = hash
                    }
                case .removed(let hashes):
                    for hash in hashes { #expect(pages.removeValue(forKey: hash) != nil) }
                case .cleared:
                    pages = [:]
                }
            }
        }

        /// The view a snapshot describes.
        init(_ snapshot: CacheSnapshot) {
            sequence = snapshot.sequence
            for chain in snapshot.chains {
                if let parent = chain.parentHash { #expect(pages[parent] != nil, "a chain listed before its parent") }
                var above = chain.parentHash
                for hash in chain.pageHashes {
                    pages[hash] = above
                    above = hash
                }
            }
        }

        init() {}
    }

    static let hasher = PageHasher(seed: 0, pageSize: 4)

    /// Receives messages until `match` returns a value, applying every `kvEvents` batch on the way.
    static func receive<T>(
        from router: FakeRouter, into view: inout RouterView, until match: (WorkerToRouter) -> T?
    ) throws -> T? {
        try router.receive { message -> T? in
            if case .kvEvents(let batch) = message { view.apply(batch) }
            return match(message)
        }
    }

    /// Asks for a snapshot and returns it, applying the batches that precede it.
    static func snapshot(from router: FakeRouter, into view: inout RouterView) throws -> CacheSnapshot? {
        try router.send(.snapshotRequest)
        return try receive(from: router, into: &view) { message -> CacheSnapshot? in
            if case .snapshot(let snapshot) = message { return snapshot }
            return nil
        }
    }

    /// Submits a request and waits for its `finished`, applying batches on the way.
    static func run(
        _ id: UInt64, prompt: [Int32], maxTokens: Int, router: FakeRouter, view: inout RouterView
    ) throws -> [Int32] {
        try router.send(.submit(WorkerSubmit(
            requestID: id, tokenIDs: prompt, params: SamplingParams(maxTokens: maxTokens, temperature: 0, ignoreEOS: true))))
        var tokens: [Int32] = []
        let finish = try receive(from: router, into: &view) { message -> RequestFinish? in
            switch message {
            case .tokens(let outputs):
                for output in outputs where output.requestID == id { tokens += output.tokenIDs }
                return nil
            case .finished(let finish) where finish.requestID == id: return finish
            default: return nil
            }
        }
        #expect(finish?.reason == .length)
        return tokens
    }

    @Test func requestStoresItsPromptPagesUnderTheirPageHashes() throws {
        let prompt = try ModelReference.load("llama-gqa").prompts[2].promptTokenIDs
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try WorkerUnderTest(routerEndpoint: router.endpoint, context: context)
        defer { worker.stop() }
        let registration = try #require(try router.acceptRegistration())
        var view = RouterView()
        // One output token: nothing generated is fed back, so exactly the prompt's whole pages are cached.
        _ = try Self.run(1, prompt: prompt, maxTokens: 1, router: router, view: &view)
        let batch = try Self.receive(from: router, into: &view) { message -> KVEventBatch? in
            if case .kvEvents(let batch) = message { return batch }
            return nil
        }
        #expect(batch?.incarnation == registration.incarnation)
        #expect(batch?.events == [.stored(namespace: 0, parentHash: nil, pageHashes: Self.hasher.chain(prompt[...], namespace: 0))])
        #expect(view.sequence == 1)
    }

    @Test func snapshotEqualsTheSetAccumulatedFromEvents() throws {
        let reference = try ModelReference.load("llama-gqa")
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        // 40 pages of 4 tokens: later requests evict earlier prefixes.
        let worker = try WorkerUnderTest(routerEndpoint: router.endpoint, context: context, pages: 40)
        defer { worker.stop() }
        _ = try #require(try router.acceptRegistration())
        var view = RouterView()
        var id: UInt64 = 0
        var computed: [[Int32]] = []
        for prompt in reference.prompts + reference.prompts.reversed() {
            id += 1
            let tokens = try Self.run(id, prompt: prompt.promptTokenIDs, maxTokens: 8, router: router, view: &view)
            #expect(tokens == Array(prompt.greedyTokenIDs.prefix(8)))
            computed.append(prompt.promptTokenIDs + tokens.dropLast())
        }
        let snapshot = try #require(try Self.snapshot(from: router, into: &view))
        #expect(snapshot.sequence == view.sequence && snapshot.sequence > 1)
        #expect(RouterView(snapshot) == view)
        #expect(!snapshot.chains.isEmpty)
        // Every cached page names a page-aligned prefix of some request's computed tokens.
        let possible = Set(computed.flatMap { Self.hasher.chain($0[...], namespace: 0) })
        #expect(Set(view.pages.keys).isSubset(of: possible))
        #expect(Set(view.pages.keys) != possible, "the small pool must have evicted something")

        // Heartbeats repeat the last sequence.
        let beat = try router.receive { message -> WorkerHeartbeat? in
            if case .heartbeat(let beat) = message { return beat }
            return nil
        }
        #expect(beat?.sequence == snapshot.sequence)
    }

    @Test func flushPublishesClearedAndLeavesAnEmptySnapshot() throws {
        let prompt = try ModelReference.load("llama-gqa").prompts[1].promptTokenIDs
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try WorkerUnderTest(routerEndpoint: router.endpoint, context: context)
        defer { worker.stop() }
        _ = try #require(try router.acceptRegistration())
        var view = RouterView()
        _ = try Self.run(1, prompt: prompt, maxTokens: 4, router: router, view: &view)
        try router.send(.flushCache)
        let cleared = try Self.receive(from: router, into: &view) { message -> KVEventBatch? in
            if case .kvEvents(let batch) = message, batch.events.contains(.cleared) { return batch }
            return nil
        }
        #expect(cleared?.events == [.cleared])
        #expect(view.pages.isEmpty)
        let snapshot = try #require(try Self.snapshot(from: router, into: &view))
        #expect(snapshot.chains.isEmpty)
        #expect(snapshot.sequence == view.sequence)
    }

    @Test func listeningWorkerRegistersWithARouterThatConnectsLate() throws {
        let reference = try ModelReference.load("llama-gqa").prompts[0]
        let context = try ZMQContext()
        let endpoint = FakeRouter.uniqueEndpoint()
        // The registration timeout does not apply while listening.
        let worker = try WorkerUnderTest(
            routerEndpoint: endpoint, connection: .bind, context: context, registrationTimeout: .milliseconds(200))
        defer { worker.stop() }
        usleep(600_000)
        #expect(worker.endpoint.state == .pending)
        let router = try FakeRouter(context: context, connectingTo: endpoint)
        let registration = try #require(try router.acceptRegistration())
        #expect(router.peer == worker.endpoint.config.routingID && registration.workerID == 7)
        #expect(worker.endpoint.waitForRegistration(timeout: .seconds(10)) == .registered)
        var view = RouterView()
        let tokens = try Self.run(1, prompt: reference.promptTokenIDs, maxTokens: 32, router: router, view: &view)
        #expect(tokens == reference.greedyTokenIDs)
    }
}
