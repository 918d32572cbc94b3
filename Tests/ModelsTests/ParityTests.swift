import BackendCatalog
import Backends
import Certification
import Engine
import Foundation
import Models
import Scheduling
import ServingTypes
import TestSupport
import Testing

/// Every tiny checkpoint on every backend, and on the reference C plugin (device memory the host
/// never reads, ops queued on its own thread), against transformers' stored outputs.
///
/// Tolerance: logits come from f32 arithmetic in both implementations; only summation order and
/// the exp/cos/sin implementations differ. With dot products of at most 640 terms through at most
/// four layers, relative rounding error stays near 1e-6; we allow 2e-4 of the largest logit
/// magnitude (at least 2e-4 absolute), two orders above that and still below the smallest top-1
/// margin of the fixtures (≥ 2e-2), so a greedy mismatch cannot hide inside the tolerance.
@Suite struct ParityTests {
    static let cases: [(String, String)] = Fixtures.parityModelNames.flatMap { model in
        (BackendCatalog.names + Fixtures.pluginBackends).map { (model, $0) }
    }

    @Test(arguments: cases)
    func matchesTransformers(model name: String, backend backendName: String) throws {
        let backend = try BackendCatalog.device(named: backendName).makeBackend(threads: 2)
        let model = try LlamaModel(directory: Fixtures.model(name), backend: backend, maxStepTokens: 256)
        let reference = try ModelReference.load(name)
        for prompt in reference.prompts {
            var batch = StepInputs()
            let pages = (0..<Int32(64)).map { $0 }
            batch.append(tokens: prompt.promptTokenIDs, startPosition: 0, pages: pages, pageSize: 4, needsLogits: true)
            let cache = try backend.makeKVCache(KVCacheSpec(config: model.config, shard: .single, pageSize: 4, pageCount: 64))
            let logits = backend.read(try model.forward(batch, cache: cache))
            let scale = max(1, prompt.lastLogits.map(abs).max()!)
            let difference = zip(logits, prompt.lastLogits).map { abs($0 - $1) }.max()!
            #expect(logits.count == prompt.lastLogits.count)
            #expect(difference <= 2e-4 * scale, "\(name)/\(backendName) '\(prompt.text.prefix(20))': max |Δlogit| = \(difference)")
        }

        // Greedy generation through the engine, one request at a time.
        let queue = EngineEventQueue()
        let engine = try EngineLoop(
            model: model, config: EngineConfig(pageSize: 16, kvMemory: .pages(64), maxBatchedTokens: 256), sink: queue.receive)
        defer { engine.shutdown() }
        for (prompt, tokens) in zip(reference.prompts, try greedyTokens(of: reference.prompts, on: engine, queue: queue)) {
            #expect(tokens == prompt.greedyTokenIDs, "\(name)/\(backendName) '\(prompt.text.prefix(20))'")
        }
    }
}
