import BackendCatalog
import Backends
import Engine
import Foundation
import Models
import Scheduling
import ServingTypes
import Testing
import TestSupport

/// Builds engines over the tiny fixtures and runs request sets to completion.
enum EngineHarness {
    /// A model for fixture `name` on `backend` (default the CPU).
    static func model(_ name: String, backend: String = "cpu", maxStepTokens: Int = 256) throws -> LlamaModel {
        let backend = try BackendCatalog.device(named: backend).makeBackend(threads: 2)
        return try LlamaModel(directory: Fixtures.model(name), backend: backend, maxStepTokens: maxStepTokens)
    }

    /// An engine with integrity checks after every step.
    static func engine(
        _ name: String, pageSize: Int = 4, pages: Int = 512, maxBatchedTokens: Int = 64, maxRunning: Int = 64,
        prefixCache: Bool = true, backend: String = "cpu", collector: EventCollector
    ) throws -> EngineLoop {
        let config = EngineConfig(
            pageSize: pageSize, kvMemory: .pages(pages), maxBatchedTokens: maxBatchedTokens,
            maxRunningRequests: maxRunning, isPrefixCacheEnabled: prefixCache, isCheckingIntegrity: true)
        return try EngineLoop(model: try model(name, backend: backend), config: config, sink: collector.receive)
    }

    /// Greedy, 32 tokens, never stopping early: the setting of the transformers references.
    static let greedy = SamplingParams(maxTokens: 32, temperature: 0, ignoreEOS: true)

    /// Submits `requests`, waits for all of them, and returns their outputs in order.
    static func run(_ requests: [EngineRequest], on engine: EngineLoop, collector: EventCollector) throws
        -> [CollectedOutput]
    {
        let before = collector.finishes
        for request in requests { try engine.submit(request) }
        #expect(collector.waitForFinishes(before + requests.count, timeout: .seconds(300)), "timed out")
        return requests.map { collector.output($0.id) }
    }
}
