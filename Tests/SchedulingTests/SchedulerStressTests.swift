import KVPaging
import Scheduling
import ServingTypes
import Testing
import TestSupport

/// Random arrivals, aborts and flushes against small pools; integrity after every call.
@Suite struct SchedulerStressTests {
    @Test(arguments: [(UInt64(1), 10, 2), (2, 16, 4), (3, 10, 8), (4, 16, 1)])
    func randomWorkloadsNeverLoseOrDuplicateRequests(seed: UInt64, pageCount: Int, pageSize: Int) throws {
        var generator = SeededRandom(seed: seed)
        let config = SchedulerConfig(
            pageCount: pageCount, pageSize: pageSize, maxBatchedTokens: Int.random(in: 4...40, using: &generator),
            maxRunningRequests: Int.random(in: 1...8, using: &generator),
            policy: Bool.random(using: &generator) ? .fcfs : .longestPrefixMatch, eosTokenIDs: [0],
            maxModelLength: 60)
        let scheduler = Scheduler(config: config)
        var model = FakeModel(pageCount: pageCount, pageSize: pageSize, vocabularySize: 40)
        var result = RunResult()
        var added: Set<RequestID> = []
        var rejected: Set<RequestID> = []
        var nextID: UInt64 = 1
        let stems: [[Int32]] = (0..<3).map { stem in (0..<pageSize * 2).map { Int32(stem * 7 + $0 % 5 + 1) } }
        for step in 0..<1500 {
            if step < 1200 && Int.random(in: 0..<3, using: &generator) == 0 {
                var prompt = Bool.random(using: &generator) ? stems.randomElement(using: &generator)! : []
                prompt += (0..<Int.random(in: 0...12, using: &generator)).map { _ in Int32.random(in: 1..<40, using: &generator) }
                let request = makeRequest(
                    nextID, prompt, maxTokens: Int.random(in: 1...30, using: &generator),
                    params: SamplingParams(namespace: UInt64.random(in: 0..<2, using: &generator)))
                added.insert(RequestID(nextID))
                if let event = scheduler.add(request) {
                    rejected.insert(RequestID(nextID))
                    result.record([event])
                }
                nextID += 1
            }
            if Int.random(in: 0..<15, using: &generator) == 0,
                let victim = added.filter({ scheduler.request($0) != nil }).randomElement(using: &generator)
            {
                if let event = scheduler.abort(victim) { result.record([event]) }
            }
            if Int.random(in: 0..<200, using: &generator) == 0 { _ = scheduler.flushCache() }
            try scheduler.checkIntegrity()
            guard let batch = scheduler.schedule() else {
                #expect(scheduler.isIdle, "nothing scheduled while requests are live")
                continue
            }
            try scheduler.checkIntegrity()
            let sampled = model.run(batch, scheduler: scheduler)
            result.record(scheduler.postprocess(sampled: sampled))
            try scheduler.checkIntegrity()
        }
        try runToCompletion(scheduler, model: &model, result: &result)
        #expect(Set(result.finishes.keys) == added, "every request finishes exactly once")
        #expect(!rejected.isEmpty && added.count - rejected.count > 100)
        #expect(scheduler.load.freePages + scheduler.load.cachedPages == pageCount)
        #expect(scheduler.flushCache())
        #expect(scheduler.freePageCount == pageCount)
    }
}
