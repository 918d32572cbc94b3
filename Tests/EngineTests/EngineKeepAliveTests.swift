import Backends
import Certification
import Engine
import Foundation
import Models
import Scheduling
import Synchronization
import Testing
import TestSupport

/// The engine loop's side of the model lifecycle: keep-alive calls while idle, one shutdown at
/// the end, and a model failure surfaced to the owner.
@Suite struct EngineKeepAliveTests {
    /// A fixture model that records the lifecycle calls the engine makes.
    final class ProbedModel: ForwardModel {
        let model: LlamaModel
        let calls: Calls
        let failsKeepAlive: Bool

        final class Calls: Sendable {
            let keepAlives = Atomic(0)
            let shutdownReasons = Mutex<[String]>([])
        }

        init(calls: Calls, failsKeepAlive: Bool = false) throws {
            model = try EngineHarness.model("llama-gqa")
            self.calls = calls
            self.failsKeepAlive = failsKeepAlive
        }

        var config: ModelConfig { model.config }
        var shard: TensorParallelShard { model.shard }
        var backend: any ComputeBackend { model.backend }
        var maxStepTokens: Int { model.maxStepTokens }
        var maxLogitRows: Int { model.maxLogitRows }
        func forward(_ batch: StepInputs, cache: any KVCacheStorage) throws -> Tensor { try model.forward(batch, cache: cache) }

        var keepAliveInterval: Duration? { .milliseconds(10) }

        func keepAlive() throws {
            calls.keepAlives.add(1, ordering: .relaxed)
            if failsKeepAlive { throw EngineError("rank 1 is gone") }
        }

        func shutdown(reason: String) { calls.shutdownReasons.withLock { $0.append(reason) } }
    }

    @Test func idleEngineKeepsTheModelAliveAndShutsItDownOnce() throws {
        let calls = ProbedModel.Calls()
        let collector = EventCollector()
        let engine = try EngineLoop(
            model: try ProbedModel(calls: calls), config: EngineConfig(pageSize: 4, kvMemory: .pages(64)),
            sink: collector.receive)
        usleep(300_000)
        let idleCalls = calls.keepAlives.load(ordering: .relaxed)
        #expect(idleCalls >= 5, "an idle engine wakes every keep-alive interval")
        let reference = try ModelReference.load("llama-gqa").prompts[1]
        let outputs = try EngineHarness.run(
            [EngineRequest(id: 1, promptTokenIDs: reference.promptTokenIDs, params: EngineHarness.greedy)], on: engine,
            collector: collector)
        #expect(outputs[0].tokenIDs == reference.greedyTokenIDs)
        #expect(engine.modelFailure == nil)
        #expect(calls.shutdownReasons.withLock { $0.isEmpty })
        engine.shutdown()
        engine.shutdown()
        #expect(calls.shutdownReasons.withLock { $0 } == ["the engine shut down"])
    }

    @Test func failedKeepAliveIsReportedAsAModelFailure() throws {
        let calls = ProbedModel.Calls()
        let engine = try EngineLoop(
            model: try ProbedModel(calls: calls, failsKeepAlive: true), config: EngineConfig(pageSize: 4, kvMemory: .pages(64)))
        defer { engine.shutdown() }
        let deadline = ContinuousClock.now + .seconds(10)
        while engine.modelFailure == nil && ContinuousClock.now < deadline { usleep(5_000) }
        #expect(engine.modelFailure == "rank 1 is gone")
        let attempts = calls.keepAlives.load(ordering: .relaxed)
        usleep(100_000)
        #expect(calls.keepAlives.load(ordering: .relaxed) == attempts, "a failed model is not kept alive")
    }
}
