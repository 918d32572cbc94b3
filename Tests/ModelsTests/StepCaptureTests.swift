import BackendCatalog
import Backends
import Models
import Testing
import TestSupport

/// Decode steps on a device that records steps: the first of each row count is captured, later
/// ones replayed, and the logits equal those of the same steps run op by op.
@Suite struct StepCaptureTests {
    @Test func replayedDecodeStepsEqualEagerOnes() throws {
        var logits: [[Float]] = []
        var counts: [(captured: Int, replayed: Int)] = []
        for capture in [false, true] {
            let backend = try BackendCatalog.device(named: Fixtures.referencePluginBackend).makeBackend(threads: 1)
            #expect(backend.device.capabilities.hooks.contains(.stepCapture))
            let model = try LlamaModel(directory: Fixtures.model("qwen3-qknorm"), backend: backend, maxStepTokens: 64)
            #expect(model.usesStepCapture, "on by default where the device claims it")
            model.usesStepCapture = capture
            let cache = try backend.makeKVCache(KVCacheSpec(config: model.config, shard: .single, pageSize: 4, pageCount: 32))
            var outputs: [Float] = []
            // A prefill of two prompts, then four decode steps of both, then two of one alone.
            var prefill = StepInputs()
            prefill.append(tokens: [5, 9, 13], startPosition: 0, pages: [0, 1], pageSize: 4, needsLogits: true)
            prefill.append(tokens: [7, 2], startPosition: 0, pages: [2, 3], pageSize: 4, needsLogits: true)
            outputs += backend.read(try model.forward(prefill, cache: cache))
            for step in 0..<6 {
                var decode = StepInputs()
                decode.append(tokens: [Int32(20 + step)], startPosition: 3 + step, pages: [0, 1, 4], pageSize: 4, needsLogits: true)
                if step < 4 {
                    decode.append(tokens: [Int32(40 + step)], startPosition: 2 + step, pages: [2, 3, 5], pageSize: 4, needsLogits: true)
                }
                outputs += backend.read(try model.forward(decode, cache: cache))
            }
            logits.append(outputs)
            counts.append(model.stepCaptureCounts)
        }
        #expect(logits[0] == logits[1])
        #expect(counts[0].captured == 0 && counts[0].replayed == 0)
        #expect(counts[1].captured == 2 && counts[1].replayed == 4, "\(counts[1])")
    }
}
