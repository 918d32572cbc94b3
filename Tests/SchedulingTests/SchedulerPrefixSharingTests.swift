import KVPaging
import Scheduling
import ServingTypes
import Testing

/// Prompts are cached as soon as their prefill finishes, so requests sharing them hit while the
/// first one is still decoding.
@Suite struct SchedulerPrefixSharingTests {
    static func prompt(_ count: Int, tail: Int32 = 0) -> [Int32] {
        (0..<count).map { Int32($0 % 13) + 1 } + (tail == 0 ? [] : [tail])
    }

    @Test func aRunningRequestsPromptIsSharedBeforeItFinishes() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 64, pageSize: 4))
        var model = FakeModel(pageCount: 64, pageSize: 4)
        var result = RunResult()
        _ = scheduler.add(makeRequest(1, Self.prompt(18), maxTokens: 20))
        let prefill = try #require(scheduler.schedule())
        result.record(scheduler.postprocess(sampled: model.run(prefill, scheduler: scheduler)))
        try scheduler.checkIntegrity()
        #expect(scheduler.load.cachedPages == 4, "the 16 whole prompt tokens are cached while request 1 runs")
        #expect(scheduler.evictablePageCount == 0, "and locked by it")

        _ = scheduler.add(makeRequest(2, Self.prompt(16, tail: 40), maxTokens: 4))
        try runToCompletion(scheduler, model: &model, result: &result)
        #expect(result.cached[2] == 16)
        #expect(result.finishes[1] == .length && result.finishes[2] == .length)
        #expect(result.outputs[1]?.count == 20)
    }

    @Test func identicalPromptsPrefilledTogetherEndUpOnOneCopy() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 64, pageSize: 4))
        var model = FakeModel(pageCount: 64, pageSize: 4)
        // Both miss and compute the same pages in one batch; the second insertion finds the
        // first's pages and must switch to them (its own copies are freed and may be reused).
        _ = scheduler.add(makeRequest(1, Self.prompt(18), maxTokens: 12))
        _ = scheduler.add(makeRequest(2, Self.prompt(18), maxTokens: 12))
        var result = RunResult()
        let prefill = try #require(scheduler.schedule())
        #expect(prefill.entries.count == 2)
        result.record(scheduler.postprocess(sampled: model.run(prefill, scheduler: scheduler)))
        try scheduler.checkIntegrity()
        #expect(scheduler.load.cachedPages == 4)
        let firstTable = try #require(scheduler.request(1)?.pageTable)
        let secondTable = try #require(scheduler.request(2)?.pageTable)
        #expect(Array(firstTable.prefix(4)) == Array(secondTable.prefix(4)))
        // A third request and fresh allocations reuse the freed copies; every KV read is checked.
        _ = scheduler.add(makeRequest(3, Self.prompt(16, tail: 44), maxTokens: 6))
        try runToCompletion(scheduler, model: &model, result: &result)
        #expect(result.outputs[1] == result.outputs[2], "same prompt, same KV, same tokens")
        #expect(result.cached[3] == 16)
    }

    @Test func abortingAfterThePromptWasCachedKeepsTheCacheConsistent() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 32, pageSize: 4))
        var model = FakeModel(pageCount: 32, pageSize: 4)
        _ = scheduler.add(makeRequest(1, Self.prompt(18), maxTokens: 10))
        let prefill = try #require(scheduler.schedule())
        _ = scheduler.postprocess(sampled: model.run(prefill, scheduler: scheduler))
        let decode = try #require(scheduler.schedule())
        // Aborted while its decode step is in flight: its half-written page is not kept.
        _ = scheduler.abort(1)
        _ = scheduler.postprocess(sampled: model.run(decode, scheduler: scheduler))
        try scheduler.checkIntegrity()
        #expect(scheduler.load.cachedPages == 4 && scheduler.evictablePageCount == 4)
        #expect(scheduler.load.freePages == 28)
    }

    @Test func flushingUnderLoadDropsWhatNoRunningRequestHolds() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 64, pageSize: 4))
        var model = FakeModel(pageCount: 64, pageSize: 4)
        var result = RunResult()
        _ = scheduler.add(makeRequest(1, Self.prompt(8).map { $0 + 20 } + [30], maxTokens: 2))
        try runToCompletion(scheduler, model: &model, result: &result)
        _ = scheduler.add(makeRequest(2, Self.prompt(18), maxTokens: 20))
        let prefill = try #require(scheduler.schedule())
        result.record(scheduler.postprocess(sampled: model.run(prefill, scheduler: scheduler)))
        let held = scheduler.load.cachedPages
        #expect(!scheduler.flushCache(), "request 2 holds its cached prompt")
        try scheduler.checkIntegrity()
        #expect(held == 6 && scheduler.load.cachedPages == 4, "only the 4 pages request 2 holds stay")
        _ = scheduler.drainKVEvents()
        try runToCompletion(scheduler, model: &model, result: &result)
        #expect(scheduler.flushCache())
        #expect(scheduler.load.cachedPages == 0)
    }
}

/// A request whose prompt a prefill in progress is about to cache waits for it and is then served
/// from the cache: `n` samples of one prompt compute it once.
@Suite struct SchedulerSharedPrefillTests {
    static let prompt = SchedulerPrefixSharingTests.prompt(70)

    @Test func aRequestSharingAPrefillInProgressWaitsAndHitsItsPages() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 128, pageSize: 4))
        var model = FakeModel(pageCount: 128, pageSize: 4)
        var result = RunResult()
        for id in 1...3 { _ = scheduler.add(makeRequest(UInt64(id), Self.prompt, maxTokens: 6)) }
        let first = try #require(scheduler.schedule())
        #expect(first.entries.map(\.requestID) == [RequestID(1)], "the two copies wait for the first prefill")
        result.record(scheduler.postprocess(sampled: model.run(first, scheduler: scheduler)))
        let second = try #require(scheduler.schedule())
        #expect(second.isPrefill && second.entries.map(\.requestID) == [RequestID(2), RequestID(3)])
        #expect(second.entries.allSatisfy { $0.startPosition == 68 }, "only the last, partial page is computed")
        result.record(scheduler.postprocess(sampled: model.run(second, scheduler: scheduler)))
        try runToCompletion(scheduler, model: &model, result: &result)
        #expect(result.cached[1] == 0 && result.cached[2] == 68 && result.cached[3] == 68)
        #expect(result.outputs[1] == result.outputs[2] && result.outputs[2] == result.outputs[3])
    }

    @Test func theWaitLastsAcrossChunksAndOthersGoAhead() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 128, pageSize: 4, maxBatchedTokens: 32))
        var model = FakeModel(pageCount: 128, pageSize: 4)
        var result = RunResult()
        _ = scheduler.add(makeRequest(1, Self.prompt, maxTokens: 4))
        _ = scheduler.add(makeRequest(2, Self.prompt, maxTokens: 4))
        _ = scheduler.add(makeRequest(3, [99, 98, 97], maxTokens: 4))
        var order: [[RequestID]] = []
        for _ in 0..<4 {
            let batch = try #require(scheduler.schedule())
            #expect(batch.isPrefill)
            order.append(batch.entries.map(\.requestID))
            result.record(scheduler.postprocess(sampled: model.run(batch, scheduler: scheduler)))
            try scheduler.checkIntegrity()
        }
        // Chunks of 32 tokens: request 1 takes the whole budget twice; its last 6 tokens leave room
        // for request 3, which overtakes the waiting request 2; request 2 comes after the prefill.
        #expect(order == [[1], [1], [1, 3], [2]].map { $0.map { RequestID(UInt64($0)) } })
        try runToCompletion(scheduler, model: &model, result: &result)
        #expect(result.cached[2] == 68)
    }

    @Test func otherNamespacesAndShortSharesDoNotWait() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 128, pageSize: 4))
        var salted = SamplingParams()
        salted.namespace = 7
        _ = scheduler.add(makeRequest(1, Self.prompt, maxTokens: 4))
        _ = scheduler.add(makeRequest(2, Self.prompt, maxTokens: 4, params: salted))
        _ = scheduler.add(makeRequest(3, Array(Self.prompt.prefix(20)) + [77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92], maxTokens: 4))
        let batch = try #require(scheduler.schedule())
        #expect(batch.entries.map(\.requestID) == [1, 2, 3].map { RequestID(UInt64($0)) })
    }
}
