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
