import RouterCore
import ServingTypes
import Testing

@Suite struct DispatcherTests {
    static let request = DispatchRequest(promptTokens: 4_096, outputTokens: 128, pageSize: 16)

    static func candidate(
        _ id: UInt32, matched: Int = 0, running: Int = 0, waiting: Int = 0, queued: Int = 0, inFlight: Int = 0,
        free: Int = 10_000, speed: Double = 4_000, interference: Double = 0
    ) -> DispatchCandidate {
        let report = LoadReport(
            runningCount: running, waitingCount: waiting, waitingPrefillTokens: queued, freePages: free,
            decodeTokensPerSecond: interference > 0 ? 1 / interference : 0)
        let load = WorkerLoad(worker: WorkerID(id), report: report, inFlightCount: inFlight, prefillTokensPerSecond: speed)
        return DispatchCandidate(load: load, matchedPages: matched)
    }

    @Test func cacheAwarePrefersTheWorkerHoldingThePrefix() {
        var dispatcher = Dispatcher(policy: .cacheAware)
        let candidates = [Self.candidate(0), Self.candidate(1, matched: 200), Self.candidate(2, matched: 10)]
        #expect(dispatcher.choose(Self.request, from: candidates)?.worker == WorkerID(1))
    }

    @Test func hotWorkerWithLongQueueLosesToIdleOne() {
        var dispatcher = Dispatcher(policy: .cacheAware)
        // Worker 1 has the whole prompt but 40k tokens queued (10 s); worker 0 prefills 4k tokens in ~1 s.
        let candidates = [Self.candidate(0), Self.candidate(1, matched: 256, queued: 40_000)]
        let choice = dispatcher.choose(Self.request, from: candidates)
        #expect(choice?.worker == WorkerID(0))
        #expect(abs((choice?.predictedTTFTSeconds ?? 0) - 1.024) < 0.01)
        // With a short queue the cache wins again.
        let short = [Self.candidate(0), Self.candidate(1, matched: 256, queued: 2_000)]
        #expect(dispatcher.choose(Self.request, from: short)?.worker == WorkerID(1))
    }

    @Test func recomputeWeightKeepsRequestsWithTheirPrefixLonger() {
        // Worker 1 holds the whole prompt but has 6k tokens queued (1.5 s); worker 0 would
        // prefill all 4,096 tokens (≈ 1 s). Counted twice, that prefill costs ≈ 2 s.
        let candidates = [Self.candidate(0), Self.candidate(1, matched: 256, queued: 6_000)]
        var plain = Dispatcher(policy: .cacheAware)
        #expect(plain.choose(Self.request, from: candidates)?.worker == WorkerID(0))
        var model = CostModel()
        model.recomputeWeight = 1
        var weighted = Dispatcher(policy: .cacheAware, costModel: model)
        let choice = weighted.choose(Self.request, from: candidates)
        #expect(choice?.worker == WorkerID(1))
        #expect(abs((choice?.predictedTTFTSeconds ?? 0) - 1.5) < 0.01)
    }

    @Test func decodeInterferenceAndMemoryPressureCount() {
        var dispatcher = Dispatcher(policy: .cacheAware)
        let busy = [Self.candidate(0, running: 40, interference: 0.05), Self.candidate(1, running: 2, interference: 0.05)]
        #expect(dispatcher.choose(Self.request, from: busy)?.worker == WorkerID(1))
        let tight = [Self.candidate(0, matched: 256, free: 3), Self.candidate(1, free: 10_000)]
        #expect(dispatcher.choose(Self.request, from: tight)?.worker == WorkerID(1))
    }

    @Test func nearTiesPreferFewerInFlightThenSeededRandom() {
        var dispatcher = Dispatcher(policy: .cacheAware)
        let candidates = [Self.candidate(0, inFlight: 3), Self.candidate(1, queued: 20, inFlight: 1), Self.candidate(2, inFlight: 2)]
        #expect(dispatcher.choose(Self.request, from: candidates)?.worker == WorkerID(1))

        let tied = (0..<4).map { Self.candidate(UInt32($0)) }
        func picks(seed: UInt64) -> [WorkerID] {
            var dispatcher = Dispatcher(policy: .cacheAware, seed: seed)
            return (0..<64).map { _ in dispatcher.choose(Self.request, from: tied)!.worker }
        }
        #expect(picks(seed: 9) == picks(seed: 9))
        #expect(Set(picks(seed: 9)).count == 4)
        #expect(picks(seed: 9) != picks(seed: 10))
    }

    @Test func roundRobinFollowsWorkerOrder() {
        var dispatcher = Dispatcher(policy: .roundRobin)
        let candidates = [Self.candidate(7), Self.candidate(2), Self.candidate(5)]
        let order = (0..<6).map { _ in dispatcher.choose(Self.request, from: candidates)!.worker.rawValue }
        #expect(order == [2, 5, 7, 2, 5, 7])
    }

    @Test func powerOfTwoPicksTheLessLoadedOfItsSample() {
        var dispatcher = Dispatcher(policy: .powerOfTwo, seed: 3)
        let pair = [Self.candidate(0, running: 9), Self.candidate(1, running: 1)]
        for _ in 0..<20 { #expect(dispatcher.choose(Self.request, from: pair)?.worker == WorkerID(1)) }
        // With many workers, the most loaded one is never chosen (it loses every pairing).
        let many = (0..<6).map { Self.candidate(UInt32($0), running: $0 == 4 ? 50 : 1) }
        for _ in 0..<200 { #expect(dispatcher.choose(Self.request, from: many)?.worker != WorkerID(4)) }
    }

    @Test func leastLoadAndRandomPolicies() {
        var least = Dispatcher(policy: .leastLoad)
        let candidates = [Self.candidate(0, running: 3), Self.candidate(1, inFlight: 1), Self.candidate(2, waiting: 2)]
        #expect(least.choose(Self.request, from: candidates)?.worker == WorkerID(1))
        var random = Dispatcher(policy: .random, seed: 1)
        let chosen = Set((0..<100).map { _ in random.choose(Self.request, from: candidates)!.worker })
        #expect(chosen.count == 3)
        #expect(random.choose(Self.request, from: []) == nil)
        #expect(DispatchPolicy(rawValue: "power-of-two") == .powerOfTwo)
    }
}
