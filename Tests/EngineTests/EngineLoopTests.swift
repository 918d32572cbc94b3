import Certification
import Engine
import Foundation
import Scheduling
import ServingTypes
import Synchronization
import Testing
import TestSupport

/// Aborts in every state, shutdown with work in flight, and the async API.
@Suite struct EngineLoopTests {
    @Test func abortsInEveryStateFinishEachRequestOnce() throws {
        let reference = try ModelReference.load("llama-gqa")
        let long = reference.prompts[3].promptTokenIDs  // 105 tokens: 14 prefill chunks of 8
        // Aborts from inside the engine thread land at exact points. With an 8-token budget,
        // request 1's last chunk (1 token) admits request 2 with 7 tokens in the same step, so
        // at request 1's first token request 2 is mid-prefill; at its third, 1 is decoding.
        let engineBox = Mutex<EngineLoop?>(nil)
        let collector = EventCollector { event in
            guard case .token(let id, _, let index, _) = event, id == 1 else { return }
            let engine = engineBox.withLock { $0 }
            if index == 0 { engine?.abort(2) }
            if index == 2 { engine?.abort(1) }
        }
        let engine = try EngineHarness.engine("llama-gqa", maxBatchedTokens: 8, maxRunning: 3, collector: collector)
        engineBox.withLock { $0 = engine }
        defer { engine.shutdown() }
        var params = EngineHarness.greedy
        params.maxTokens = 20
        let requests = (1...5).map { EngineRequest(id: RequestID(UInt64($0)), promptTokenIDs: long, params: params) }
        for request in requests { try engine.submit(request) }
        engine.abort(5)  // waiting: at most three run at once
        engine.abort(77)  // unknown: ignored
        #expect(collector.waitForFinishes(5, timeout: .seconds(300)))
        let outputs = requests.map { collector.output($0.id) }
        let expected = Array(reference.prompts[3].greedyTokenIDs.prefix(20))
        for output in outputs { #expect(output.violations.isEmpty) }
        #expect(outputs[0].reason == .abort && outputs[0].tokenIDs == Array(expected.prefix(3)))
        #expect(outputs[1].reason == .abort && outputs[1].tokenIDs.isEmpty)
        #expect(outputs[2].reason == .length && outputs[2].tokenIDs == expected)
        #expect(outputs[3].reason == .length && outputs[3].tokenIDs == expected)
        #expect(outputs[4].reason == .abort && outputs[4].tokenIDs.isEmpty)
        // The engine is healthy afterwards (and reuses the aborted requests' cached KV).
        let after = try EngineHarness.run(
            [EngineRequest(id: 9, promptTokenIDs: long, params: EngineHarness.greedy)], on: engine, collector: collector)
        #expect(after[0].tokenIDs == reference.prompts[3].greedyTokenIDs)
        #expect((after[0].usage?.cachedTokenCount ?? 0) > 0)
        engine.shutdown()
        #expect(engine.load.report.runningCount == 0)
    }

    @Test func shutdownGivesEveryRequestAFinalEvent() throws {
        let reference = try ModelReference.load("llama-gqa")
        let collector = EventCollector()
        let engine = try EngineHarness.engine("llama-gqa", maxRunning: 4, collector: collector)
        var params = EngineHarness.greedy
        params.maxTokens = 400
        let requests = (1...10).map {
            EngineRequest(id: RequestID(UInt64($0)), promptTokenIDs: reference.prompts[$0 % 4].promptTokenIDs, params: params)
        }
        for request in requests { try engine.submit(request) }
        while collector.output(1).tokenIDs.count < 2 { usleep(1000) }
        engine.shutdown()
        #expect(collector.finishes == 10)
        for request in requests {
            let output = collector.output(request.id)
            #expect(output.violations.isEmpty)
            #expect(output.reason?.errorMessage?.contains("shut down") == true)
        }
        #expect(throws: EngineError.self) { try engine.submit(requests[0]) }
        engine.shutdown()  // idempotent
    }

    @Test func asyncStreamsDeliverTokensThenFinish() async throws {
        let reference = try ModelReference.load("qwen3-qknorm")
        let engine = try EngineHarness.engine("qwen3-qknorm", collector: EventCollector())
        defer { engine.shutdown() }
        try await withThrowingTaskGroup(of: (Int, [Int32], FinishReason?).self) { group in
            for (index, prompt) in reference.prompts.enumerated() {
                let stream = engine.generate(promptTokenIDs: prompt.promptTokenIDs, params: EngineHarness.greedy)
                group.addTask {
                    var tokens: [Int32] = []
                    var reason: FinishReason?
                    for try await event in stream {
                        switch event {
                        case .token(_, let token, _, _): tokens.append(token)
                        case .finished(_, let finish, _): reason = finish
                        }
                    }
                    return (index, tokens, reason)
                }
            }
            for try await (index, tokens, reason) in group {
                #expect(tokens == reference.prompts[index].greedyTokenIDs)
                #expect(reason == .length)
            }
        }
        engine.shutdown()
        await #expect(throws: EngineError.self) {
            for try await _ in engine.generate(promptTokenIDs: [1], params: EngineHarness.greedy) {}
        }
    }
}
