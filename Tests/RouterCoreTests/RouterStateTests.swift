import PageHashing
import RouterCore
import ServingTypes
import Testing

@Suite struct RouterStateTests {
    static let hasher = PageHasher(seed: 5, pageSize: 4)

    static func makeState(workers: Int, policy: DispatchPolicy = .cacheAware) -> RouterState {
        var state = RouterState(hasher: hasher, dispatcher: Dispatcher(policy: policy, seed: 1))
        for number in 0..<workers { _ = state.addWorker(WorkerID(UInt32(number)), incarnation: 1, totalPages: 10_000, lastSequence: 0, now: .seconds(0)) }
        return state
    }

    static func tokens(_ seed: UInt64, count: Int) -> [Int32] {
        var generator = SeededRandom(seed: seed)
        return (0..<count).map { _ in Int32.random(in: 0..<50_000, using: &generator) }
    }

    @Test func sharedPrefixGoesToItsHolder() {
        var state = Self.makeState(workers: 4)
        let system = Self.tokens(1, count: 400)
        let holder = WorkerID(2)
        let hashes = Self.hasher.chain(system[...], namespace: 0)
        let actions = state.apply(
            WorkerEventBatch(worker: holder, incarnation: 1, sequence: 1, events: [.stored(namespace: 0, parentHash: nil, pageHashes: hashes)]),
            now: .seconds(0.1))
        #expect(actions.isEmpty)
        let decision = state.route(tokens: (system + Self.tokens(2, count: 40))[...], namespace: 0, outputTokens: 64, now: .seconds(0.2))
        #expect(decision?.worker == holder)
        #expect(decision?.matchedPages == 100)
        // Another namespace shares nothing.
        let other = state.route(tokens: system[...], namespace: 9, outputTokens: 64, now: .seconds(0.2))
        #expect(other?.matchedPages == 0)
    }

    @Test func unrelatedLoadSpreadsAndSiblingsFollowThePendingEntry() {
        var state = Self.makeState(workers: 4)
        var used = Set<WorkerID>()
        var decisions: [RouteDecision] = []
        for request in 0..<4 {
            let decision = state.route(tokens: Self.tokens(UInt64(100 + request), count: 512)[...], namespace: 0, outputTokens: 32, now: .seconds(0))!
            used.insert(decision.worker)
            decisions.append(decision)
        }
        #expect(used.count == 4)
        // A sibling of request 0 arrives before any stored event: it follows the pending entry.
        let sibling = Self.tokens(100, count: 512)[..<480]
        let decision = state.route(tokens: sibling, namespace: 0, outputTokens: 32, now: .seconds(0.5))
        #expect(decision?.worker == decisions[0].worker)
        #expect(decision?.matchedPages == 120)
        for decision in decisions {
            let released = state.finish(decision)
            #expect(released)
        }
        let releasedTwice = state.finish(decisions[0])
        #expect(!releasedTwice)
        #expect(state.registry.outstandingCount == 1)
    }

    @Test func lostWorkersArePurgedAndResyncOnReturn() {
        var state = RouterState(hasher: Self.hasher, registry: WorkerRegistry(heartbeatInterval: .milliseconds(100), missedHeartbeatLimit: 2))
        let (a, b) = (WorkerID(0), WorkerID(1))
        _ = state.addWorker(a, incarnation: 1, lastSequence: 0, now: .seconds(0))
        _ = state.addWorker(b, incarnation: 1, lastSequence: 0, now: .seconds(0))
        let prompt = Self.tokens(7, count: 64)
        let hashes = Self.hasher.chain(prompt[...], namespace: 0)
        _ = state.apply(WorkerEventBatch(worker: a, incarnation: 1, sequence: 1, events: [.stored(namespace: 0, parentHash: nil, pageHashes: hashes)]), now: .seconds(0.1))
        _ = state.apply(WorkerEventBatch(worker: b, incarnation: 1, sequence: 0, events: []), now: .seconds(0.3))
        let lost = state.tick(now: .seconds(0.35))
        #expect(lost == [.workerLost(a)])
        #expect(state.index.pages(of: a).isEmpty)
        let fallback = state.route(tokens: prompt[...], namespace: 0, outputTokens: 8, now: .seconds(0.35))
        #expect(fallback?.worker == b)
        let actions = state.apply(WorkerEventBatch(worker: a, incarnation: 1, sequence: 1, events: []), now: .seconds(0.4))
        #expect(actions == [.requestSnapshot(a, .unknownState)])
        _ = state.applySnapshot(WorkerSnapshot(worker: a, incarnation: 1, sequence: 1, chains: [.init(namespace: 0, parentHash: nil, pageHashes: hashes)]), now: .seconds(0.4))
        #expect(state.index.match(pageHashes: hashes)[a] == 16)
        #expect(state.index.integrityProblems().isEmpty)
    }

    @Test func excludedWorkersAreSkippedForRetries() {
        var state = Self.makeState(workers: 2)
        let first = state.route(tokens: Self.tokens(3, count: 64)[...], namespace: 0, outputTokens: 8, now: .seconds(0))!
        state.finish(first)
        let retry = state.route(tokens: Self.tokens(3, count: 64)[...], namespace: 0, outputTokens: 8, now: .seconds(0), excluding: [first.worker])
        #expect(retry != nil && retry?.worker != first.worker)
        let none = state.route(tokens: [], namespace: 0, outputTokens: 8, now: .seconds(0), excluding: [WorkerID(0), WorkerID(1)])
        #expect(none == nil)
    }
}
