import Scheduling
import ServingTypes
import Testing

/// The load a worker reports to the router: `waitingPrefillTokens` feeds the router's cost model.
@Suite struct SchedulerLoadTests {
    static func prompt(_ count: Int) -> [Int32] { (0..<count).map { 1 + Int32($0 % 40) } }

    @Test func waitingPrefillTokensCountQueuedAndUnfinishedChunkedPrompts() throws {
        // Budget 8 tokens per prefill step, one running request at a time.
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 32, pageSize: 4, maxBatchedTokens: 8, maxRunningRequests: 1))
        #expect(scheduler.load.waitingPrefillTokens == 0)
        _ = scheduler.add(makeRequest(1, Self.prompt(20)))
        _ = scheduler.add(makeRequest(2, Self.prompt(6)))
        #expect(scheduler.load.waitingPrefillTokens == 26)
        #expect(scheduler.load.waitingCount == 2 && scheduler.load.runningCount == 0)

        var model = FakeModel(pageCount: 32, pageSize: 4)
        let first = try #require(scheduler.schedule())
        _ = scheduler.postprocess(sampled: model.run(first, scheduler: scheduler))
        // Request 1 has prefilled 8 of its 20 tokens; request 2 still waits with all 6.
        #expect(scheduler.load.runningCount == 1)
        #expect(scheduler.load.waitingPrefillTokens == 12 + 6)

        var result = RunResult()
        try runToCompletion(scheduler, model: &model, result: &result)
        #expect(scheduler.load.waitingPrefillTokens == 0)
        #expect(scheduler.load.totalPages == 32)
    }
}
