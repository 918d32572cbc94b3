import Certification
import Engine
import Foundation
import Scheduling
import ServingTypes
import Testing
import TestSupport

/// A pool far too small for the load: requests finish correctly through retraction.
@Suite struct MemoryPressureTests {
    @Test func fiftyRequestsFinishThroughRetraction() throws {
        let reference = try ModelReference.load("llama-gqa")
        let collector = EventCollector()
        // 48 pages of 4 tokens: the longest request (105 + 31 KV positions) needs 34.
        let engine = try EngineHarness.engine("llama-gqa", pages: 48, maxBatchedTokens: 128, collector: collector)
        defer { engine.shutdown() }
        var requests = (0..<50).map { index in
            EngineRequest(
                id: RequestID(UInt64(index)), promptTokenIDs: reference.prompts[index % 4].promptTokenIDs,
                params: EngineHarness.greedy)
        }
        // 105 prompt tokens + 100 outputs need 51 pages (the last token needs no KV): more than the whole pool.
        var oversize = EngineHarness.greedy
        oversize.maxTokens = 100
        requests.append(EngineRequest(id: 999, promptTokenIDs: reference.prompts[3].promptTokenIDs, params: oversize))

        let outputs = try EngineHarness.run(requests, on: engine, collector: collector)
        for (index, output) in outputs.dropLast().enumerated() {
            #expect(output.violations.isEmpty)
            #expect(output.tokenIDs == reference.prompts[index % 4].greedyTokenIDs, "request \(index)")
        }
        let failure = try #require(outputs.last)
        #expect(failure.tokenIDs.isEmpty)
        let message = try #require(failure.reason?.errorMessage)
        #expect(message.contains("51 KV pages"), "\(message)")
        // The snapshot is published after the step whose events woke us.
        var load = engine.load
        for _ in 0..<1000 where load.report.runningCount > 0 || load.report.waitingCount > 0 {
            usleep(1000)
            load = engine.load
        }
        #expect(load.retractionTotal > 0)
        #expect(load.report.runningCount == 0 && load.report.waitingCount == 0)
        #expect(load.report.freePages + load.report.cachedPages == load.report.totalPages)
    }
}
