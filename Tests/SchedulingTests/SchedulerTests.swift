import KVPaging
import Scheduling
import ServingTypes
import Testing

@Suite struct SchedulerTests {
    static func prompt(_ count: Int, base: Int32 = 1) -> [Int32] { (0..<count).map { base + Int32($0 % 40) } }

    // MARK: - Admission and prefill

    @Test func singleRequestRunsToMaxTokens() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 16, pageSize: 4))
        var model = FakeModel(pageCount: 16, pageSize: 4)
        var result = RunResult()
        #expect(scheduler.add(makeRequest(1, Self.prompt(10), maxTokens: 5)) == nil)
        try runToCompletion(scheduler, model: &model, result: &result)
        #expect(result.outputs[1]?.count == 5)
        #expect(result.finishes[1] == .length)
        #expect(result.steps == 5, "one prefill step and four decode steps")
        #expect(scheduler.load.freePages + scheduler.load.cachedPages == 16)
    }

    @Test func chunkedPrefillSplitsALongPromptAcrossSteps() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 16, pageSize: 4, maxBatchedTokens: 8))
        _ = scheduler.add(makeRequest(1, Self.prompt(20)))
        var model = FakeModel(pageCount: 16, pageSize: 4)
        var chunks: [(start: Int, count: Int, sample: Bool, pages: Int)] = []
        for _ in 0..<3 {
            let batch = try #require(scheduler.schedule())
            let entry = try #require(batch.entries.first)
            #expect(batch.isPrefill && entry.isPrefill)
            chunks.append((entry.startPosition, entry.tokenIDs.count, entry.shouldSample, entry.pageTable.count))
            let sampled = model.run(batch, scheduler: scheduler)
            _ = scheduler.postprocess(sampled: sampled)
            try scheduler.checkIntegrity()
        }
        #expect(chunks.map(\.start) == [0, 8, 16])
        #expect(chunks.map(\.count) == [8, 8, 4])
        #expect(chunks.map(\.sample) == [false, false, true])
        #expect(chunks.map(\.pages) == [2, 4, 5])
        let decode = try #require(scheduler.schedule())
        #expect(!decode.isPrefill)
        #expect(decode.entries.first?.startPosition == 20)
        #expect(decode.entries.first?.pageTable.count == 6, "position 20 starts a sixth page")
    }

    @Test func prefillRunsBeforeDecodeAndRespectsTheBudget() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 64, pageSize: 4, maxBatchedTokens: 16))
        _ = scheduler.add(makeRequest(1, Self.prompt(6)))
        var model = FakeModel(pageCount: 64, pageSize: 4)
        var batch = try #require(scheduler.schedule())
        _ = scheduler.postprocess(sampled: model.run(batch, scheduler: scheduler))
        _ = scheduler.add(makeRequest(2, Self.prompt(12, base: 3)))
        _ = scheduler.add(makeRequest(3, Self.prompt(12, base: 5)))
        batch = try #require(scheduler.schedule())
        #expect(batch.isPrefill)
        #expect(batch.entries.map(\.requestID) == [2, 3])
        #expect(batch.scheduledTokenCount == 16)
        #expect(batch.entries.map(\.shouldSample) == [true, false])
        _ = scheduler.postprocess(sampled: model.run(batch, scheduler: scheduler))
        batch = try #require(scheduler.schedule())
        #expect(batch.isPrefill, "the unfinished chunk of request 3 goes before any decode")
        #expect(batch.entries.map(\.requestID) == [3])
        _ = scheduler.postprocess(sampled: model.run(batch, scheduler: scheduler))
        batch = try #require(scheduler.schedule())
        #expect(!batch.isPrefill)
        #expect(batch.entries.map(\.requestID) == [1, 2, 3])
        try scheduler.checkIntegrity()
    }

    @Test func maxRunningRequestsLimitsAdmission() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 64, pageSize: 4, maxRunningRequests: 2))
        for id in 1...5 { _ = scheduler.add(makeRequest(UInt64(id), Self.prompt(5, base: Int32(id)))) }
        var model = FakeModel(pageCount: 64, pageSize: 4)
        var result = RunResult()
        try runToCompletion(scheduler, model: &model, result: &result)
        #expect(result.maxRunning == 2)
        #expect(result.finishes.count == 5)
    }

    // MARK: - Prefix cache

    @Test func secondRequestReusesThePrefixPages() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 32, pageSize: 4))
        var model = FakeModel(pageCount: 32, pageSize: 4)
        var result = RunResult()
        let shared = Self.prompt(14)
        _ = scheduler.add(makeRequest(1, shared, maxTokens: 3))
        let first = try #require(scheduler.schedule())
        let firstPages = try #require(first.entries.first?.pageTable)
        result.record(scheduler.postprocess(sampled: model.run(first, scheduler: scheduler)))
        try runToCompletion(scheduler, model: &model, result: &result)
        _ = scheduler.drainKVEvents()

        _ = scheduler.add(makeRequest(2, shared + [7, 7, 7], maxTokens: 3))
        let second = try #require(scheduler.schedule())
        let entry = try #require(second.entries.first)
        #expect(entry.startPosition == 12, "three whole pages of the 14-token prompt are cached")
        #expect(Array(entry.pageTable.prefix(3)) == Array(firstPages.prefix(3)))
        #expect(scheduler.request(2)?.cachedTokenCount == 12)
        result.record(scheduler.postprocess(sampled: model.run(second, scheduler: scheduler)))
        try runToCompletion(scheduler, model: &model, result: &result)
        #expect(result.cached[2] == 12)
        #expect(result.cached[1] == 0)
    }

    @Test func finishedConversationIsCachedIncludingOutputs() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 32, pageSize: 2))
        var model = FakeModel(pageCount: 32, pageSize: 2)
        var result = RunResult()
        let prompt = Self.prompt(5)
        _ = scheduler.add(makeRequest(1, prompt, maxTokens: 6))
        try runToCompletion(scheduler, model: &model, result: &result)
        let events = scheduler.drainKVEvents()
        #expect(events.contains { if case .stored = $0 { true } else { false } })
        // Next turn: prompt + answer + a new user message. KV exists for 10 of the 11 tokens.
        let turn = prompt + result.outputs[1]! + [9, 9, 9]
        _ = scheduler.add(makeRequest(2, turn, maxTokens: 2))
        try runToCompletion(scheduler, model: &model, result: &result)
        #expect(result.cached[2] == 10)
    }

    // MARK: - Finishing

    @Test func stopTokensAndEOSFinishRequests() throws {
        let config = SchedulerConfig(pageCount: 32, pageSize: 4, eosTokenIDs: [])
        // Find what the fake model generates, then use its tokens as stop/eos markers.
        var probe = RunResult()
        var model = FakeModel(pageCount: 32, pageSize: 4)
        let reference = Scheduler(config: config)
        _ = reference.add(makeRequest(1, Self.prompt(6), maxTokens: 6))
        try runToCompletion(reference, model: &model, result: &probe)
        let generated = try #require(probe.outputs[1])
        let marker = generated[2]
        let firstIndex = try #require(generated.firstIndex(of: marker))

        var eosConfig = config
        eosConfig.eosTokenIDs = [marker]
        for (params, expectedCount, reason) in [
            (SamplingParams(stopTokenIDs: [marker]), firstIndex + 1, FinishReason.stop(tokenID: marker)),
            (SamplingParams(), firstIndex + 1, .stop(tokenID: marker)),
            (SamplingParams(ignoreEOS: true), 6, .length),
        ] {
            let scheduler = Scheduler(config: eosConfig)
            var result = RunResult()
            _ = scheduler.add(makeRequest(1, Self.prompt(6), maxTokens: 6, params: params))
            try runToCompletion(scheduler, model: &model, result: &result)
            #expect(result.outputs[1]?.count == expectedCount)
            #expect(result.finishes[1] == reason)
        }
    }

    @Test func oversizeRequestsFailCleanlyWhileOthersFinish() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 4, pageSize: 4, maxModelLength: 64))
        var model = FakeModel(pageCount: 4, pageSize: 4)
        var result = RunResult()
        _ = scheduler.add(makeRequest(1, Self.prompt(5), maxTokens: 4))
        let tooBigForPool = scheduler.add(makeRequest(2, Self.prompt(15), maxTokens: 3))
        let tooLong = scheduler.add(makeRequest(3, Self.prompt(60), maxTokens: 10))
        let empty = scheduler.add(makeRequest(4, [], maxTokens: 1))
        let badParams = scheduler.add(makeRequest(5, [1], maxTokens: 1, params: SamplingParams(topP: 2)))
        let duplicate = scheduler.add(makeRequest(1, [1], maxTokens: 1))
        let fits = scheduler.add(makeRequest(6, Self.prompt(14), maxTokens: 3))
        #expect(fits == nil, "14 + 3 - 1 = 16 positions fit the 4 pages exactly")
        for (event, id, text) in [
            (tooBigForPool, 2, "KV pages"), (tooLong, 3, "maximum model length"), (empty, 4, "at least one"),
            (badParams, 5, "top_p"), (duplicate, 1, "already in use"),
        ] {
            guard case .finished(let reported, .error(let message), _, 0, 0) = event else {
                Issue.record("expected an error for request \(id), got \(String(describing: event))")
                continue
            }
            #expect(reported == RequestID(UInt64(id)))
            #expect(message.contains(text))
        }
        try runToCompletion(scheduler, model: &model, result: &result)
        #expect(result.finishes[1] == .length)
        #expect(result.finishes[6] == .length)
        #expect(result.outputs[6]?.count == 3)
    }

    // MARK: - Abort

    @Test func abortWhileWaiting() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 8, pageSize: 4))
        _ = scheduler.add(makeRequest(1, Self.prompt(5)))
        let event = scheduler.abort(1)
        #expect(event == .finished(requestID: 1, reason: .abort, promptTokenCount: 5, completionTokenCount: 0, cachedTokenCount: 0))
        #expect(scheduler.isIdle)
        #expect(scheduler.abort(1) == nil)
        #expect(scheduler.schedule() == nil)
        try scheduler.checkIntegrity()
    }

    @Test func abortDuringChunkedPrefillAndDecode() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 32, pageSize: 4, maxBatchedTokens: 8))
        var model = FakeModel(pageCount: 32, pageSize: 4)
        _ = scheduler.add(makeRequest(1, Self.prompt(20)))
        _ = scheduler.add(makeRequest(2, Self.prompt(3, base: 30)))
        var batch = try #require(scheduler.schedule())
        _ = scheduler.postprocess(sampled: model.run(batch, scheduler: scheduler))
        #expect(scheduler.request(1)?.isPrefilling == true)
        #expect(scheduler.abort(1) != nil)
        try scheduler.checkIntegrity()
        #expect(scheduler.load.cachedPages == 2, "the 8 computed tokens stay cached")
        batch = try #require(scheduler.schedule())
        _ = scheduler.postprocess(sampled: model.run(batch, scheduler: scheduler))
        batch = try #require(scheduler.schedule())
        #expect(!batch.isPrefill)
        _ = scheduler.postprocess(sampled: model.run(batch, scheduler: scheduler))
        let aborted = scheduler.abort(2)
        guard case .finished(_, .abort, 3, 2, _) = aborted else {
            Issue.record("unexpected \(String(describing: aborted))")
            return
        }
        #expect(scheduler.isIdle)
        try scheduler.checkIntegrity()
        #expect(scheduler.load.freePages + scheduler.load.cachedPages == 32)
        #expect(scheduler.flushCache())
        #expect(scheduler.freePageCount == 32)
    }

    @Test func abortWithABatchInFlightDropsItsTokenAndKV() throws {
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 8, pageSize: 4))
        var model = FakeModel(pageCount: 8, pageSize: 4)
        _ = scheduler.add(makeRequest(1, Self.prompt(9)))
        _ = scheduler.add(makeRequest(2, Self.prompt(9, base: 7)))
        let batch = try #require(scheduler.schedule())
        _ = scheduler.abort(1)
        try scheduler.checkIntegrity()
        #expect(scheduler.load.cachedPages == 0, "half-written KV is not cached")
        let events = scheduler.postprocess(sampled: model.run(batch, scheduler: scheduler).filter { $0.requestID != 1 })
        #expect(events.count == 1)
        try scheduler.checkIntegrity()
    }

    // MARK: - Policies

    @Test func policiesGoByTheirShortNames() {
        #expect(SchedulingPolicy.allCases.map(\.name) == ["fcfs", "lpm"])
        #expect(SchedulingPolicy(name: "lpm") == .longestPrefixMatch && SchedulingPolicy(name: "fcfs") == .fcfs)
        #expect(SchedulingPolicy(name: "LPM") == nil && SchedulingPolicy(name: "longestPrefixMatch") == nil)
        #expect("\(SchedulingPolicy.longestPrefixMatch)" == "lpm")
    }

    @Test(arguments: [SchedulingPolicy.fcfs, .longestPrefixMatch])
    func admissionOrderFollowsThePolicy(policy: SchedulingPolicy) throws {
        let scheduler = Scheduler(
            config: SchedulerConfig(pageCount: 32, pageSize: 4, maxRunningRequests: 1, policy: policy))
        var model = FakeModel(pageCount: 32, pageSize: 4)
        var result = RunResult()
        let shared = Self.prompt(12, base: 20)
        _ = scheduler.add(makeRequest(1, shared + [1], maxTokens: 1))
        try runToCompletion(scheduler, model: &model, result: &result)
        _ = scheduler.add(makeRequest(2, Self.prompt(13, base: 2), maxTokens: 1))
        _ = scheduler.add(makeRequest(3, Self.prompt(4, base: 9), maxTokens: 1))
        _ = scheduler.add(makeRequest(4, shared + [2, 3], maxTokens: 1))
        let batch = try #require(scheduler.schedule())
        #expect(batch.entries.map(\.requestID) == (policy == .fcfs ? [2] : [4]))
        result.record(scheduler.postprocess(sampled: model.run(batch, scheduler: scheduler)))
        try runToCompletion(scheduler, model: &model, result: &result)
        #expect(result.finishes.count == 4)
    }

    /// Under `lpm`, requests on the same cached prefix are admitted together (the first prefix
    /// to arrive first), so they share batches; `fcfs` keeps arrival order.
    @Test(arguments: [SchedulingPolicy.fcfs, .longestPrefixMatch])
    func lpmAdmitsRequestsOnOneCachedPrefixTogether(policy: SchedulingPolicy) throws {
        let scheduler = Scheduler(
            config: SchedulerConfig(pageCount: 64, pageSize: 4, maxRunningRequests: 2, policy: policy))
        var model = FakeModel(pageCount: 64, pageSize: 4)
        var result = RunResult()
        let (a, b) = (Self.prompt(12, base: 20), Self.prompt(12, base: 3))
        _ = scheduler.add(makeRequest(1, a + [1], maxTokens: 1))
        _ = scheduler.add(makeRequest(2, b + [1], maxTokens: 1))
        try runToCompletion(scheduler, model: &model, result: &result)
        for (id, prompt) in [(UInt64(3), a + [2]), (4, b + [2]), (5, a + [3]), (6, b + [3]), (7, Self.prompt(9, base: 30))] {
            _ = scheduler.add(makeRequest(id, prompt, maxTokens: 1))
        }
        var admitted: [[RequestID]] = []
        while let batch = scheduler.schedule() {
            if batch.entries.allSatisfy(\.isPrefill) { admitted.append(batch.entries.map(\.requestID)) }
            result.record(scheduler.postprocess(sampled: model.run(batch, scheduler: scheduler)))
        }
        #expect(admitted == (policy == .fcfs ? [[3, 4], [5, 6], [7]] : [[3, 5], [4, 6], [7]]))
        #expect(result.finishes.count == 7)
    }
}
