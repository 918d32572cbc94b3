import KVPaging
import Scheduling
import ServingTypes
import Testing
import TestSupport

@Suite struct SchedulerRetractionTests {
    static func workload(count: Int, seed: UInt64) -> [Request] {
        var generator = SeededRandom(seed: seed)
        let system: [Int32] = (0..<12).map { 100 + $0 }
        return (0..<count).map { index in
            var prompt = Bool.random(using: &generator) ? system : []
            prompt += (0..<Int.random(in: 1...20, using: &generator)).map { _ in Int32.random(in: 1..<50, using: &generator) }
            return makeRequest(UInt64(index + 1), prompt, maxTokens: Int.random(in: 1...24, using: &generator))
        }
    }

    static func run(_ requests: [Request], pageCount: Int, maxBatchedTokens: Int = 64) throws -> (RunResult, Int) {
        let scheduler = Scheduler(
            config: SchedulerConfig(pageCount: pageCount, pageSize: 4, maxBatchedTokens: maxBatchedTokens))
        var model = FakeModel(pageCount: pageCount, pageSize: 4)
        var result = RunResult()
        for request in requests { #expect(scheduler.add(request) == nil) }
        try runToCompletion(scheduler, model: &model, result: &result)
        return (result, scheduler.retractionTotal)
    }

    @Test func tinyPoolProducesExactlyTheSameOutputsAsALargeOne() throws {
        let requests = Self.workload(count: 40, seed: 7)
        let (large, largeRetractions) = try Self.run(requests, pageCount: 1024)
        let (tiny, tinyRetractions) = try Self.run(requests, pageCount: 12)
        #expect(largeRetractions == 0)
        #expect(tinyRetractions > 0, "the tiny pool must force retractions")
        #expect(tiny.finishes.count == requests.count)
        #expect(tiny.outputs == large.outputs)
        #expect(tiny.finishes == large.finishes)
    }

    @Test func mostRecentlyAdmittedRequestIsRetractedFirstAndKeepsItsOutput() throws {
        // Three 4-token prompts fill 3 of 5 pages; headroom admits all three, then decode
        // needs a fourth page for each request.
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 5, pageSize: 4))
        var model = FakeModel(pageCount: 5, pageSize: 4)
        for id in 1...3 { _ = scheduler.add(makeRequest(UInt64(id), SchedulerTests.prompt(3, base: Int32(10 * id)), maxTokens: 8)) }
        var retracted: [RequestID] = []
        var outputsAtRetraction: [RequestID: Int] = [:]
        for _ in 0..<6 {
            let before = Set((1...3).map { RequestID($0) }.filter { scheduler.request($0)?.state == .running })
            let batch = try #require(scheduler.schedule())
            try scheduler.checkIntegrity()
            for id in before where scheduler.request(id)?.state == .waiting {
                retracted.append(id)
                outputsAtRetraction[id] = scheduler.request(id)!.outputTokenIDs.count
            }
            _ = scheduler.postprocess(sampled: model.run(batch, scheduler: scheduler))
            try scheduler.checkIntegrity()
        }
        #expect(retracted.first == 3, "the last admitted request goes first")
        let id = try #require(retracted.first)
        let request = try #require(scheduler.request(id))
        #expect(request.retractionCount >= 1)
        #expect(request.outputTokenIDs.count >= outputsAtRetraction[id]!, "outputs survive retraction")
    }

    @Test func recomputeAfterRetractionPrefillsPromptAndOutputs() throws {
        // Both fit at admission (2 pages each + 1 page of decode headroom), but not for long.
        let scheduler = Scheduler(config: SchedulerConfig(pageCount: 5, pageSize: 2, maxBatchedTokens: 64))
        var model = FakeModel(pageCount: 5, pageSize: 2)
        _ = scheduler.add(makeRequest(1, [1, 2, 3], maxTokens: 6))
        _ = scheduler.add(makeRequest(2, [4, 5, 6], maxTokens: 6))
        var sawRecompute = false
        var result = RunResult()
        while !scheduler.isIdle {
            let batch = try #require(scheduler.schedule())
            for entry in batch.entries where entry.isPrefill {
                let request = try #require(scheduler.request(entry.requestID))
                if request.retractionCount > 0 {
                    sawRecompute = true
                    #expect(entry.startPosition + entry.tokenIDs.count == request.tokenIDs.count)
                    #expect(request.tokenIDs.count > request.promptTokenCount)
                }
            }
            result.record(scheduler.postprocess(sampled: model.run(batch, scheduler: scheduler)))
            try scheduler.checkIntegrity()
        }
        #expect(sawRecompute)
        #expect(result.outputs[1]?.count == 6 && result.outputs[2]?.count == 6)
    }
}
