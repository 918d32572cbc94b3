import BackendCatalog
import Backends
import Certification
import Engine
import Models
import Scheduling
import ServingTypes
import Testing
import TestSupport

/// A device that cannot run a configuration is refused when the model or engine is built, with an
/// error naming the device and the missing capability; nothing falls back to another dtype or
/// page size.
@Suite struct CapabilityRefusalTests {
    static let narrow = NarrowDevice(capabilities: DeviceCapabilities(
        weightDTypes: [.f32], kvCacheDTypes: [.f32], pageSizes: .multiples(of: 16), sharesHostMemory: true,
        hasHostVisibleBuffers: true, maxThreads: 1, maxRowsPerStep: 256))

    static func expectRefusal(_ phrase: String, device: String, _ body: () throws -> Void) {
        let error = #expect(throws: BackendError.self) { try body() }
        #expect(error?.code == .missingCapability)
        #expect(error?.message == "device '\(device)' cannot run this model: \(phrase)")
    }

    @Test(arguments: [
        ("reference", DType.bf16, "KV cache dtype bf16 is not supported (supports: f32)"),
        ("cpu", DType.f16, "KV cache dtype f16 is not supported (supports: bf16, f32)"),
    ])
    func unclaimedKVDTypeIsRefusedWhenTheEngineStarts(device: String, dtype: DType, phrase: String) throws {
        Self.expectRefusal(phrase, device: device) {
            let backend = try BackendCatalog.device(named: device).makeBackend(threads: 1)
            let model = try LlamaModel(directory: Fixtures.model("llama-gqa"), backend: backend, maxStepTokens: 64)
            _ = try EngineLoop(model: model, config: EngineConfig(pageSize: 4, kvMemory: .pages(16), kvCacheDType: dtype))
        }
    }

    @Test func requirementsRefuseBeforeWeightsLoad() throws {
        let backend = try BackendCatalog.device(named: "reference").makeBackend(threads: 1)
        Self.expectRefusal("KV cache dtype bf16 is not supported (supports: f32)", device: "reference") {
            // LlamaModel checks the device before it reads a weight.
            let config = EngineConfig(kvCacheDType: .bf16)
            _ = try LlamaModel(
                config: try ModelConfig.load(directory: Fixtures.model("llama-gqa")),
                checkpoint: try Checkpoint(directory: Fixtures.model("llama-gqa")), backend: backend,
                requirements: config.deviceRequirements)
        }
    }

    @Test func pageSizeOutsideTheDeviceRuleIsRefused() throws {
        Self.expectRefusal("page size 40 is not supported (supports: multiples of 16)", device: "narrow") {
            let model = try LlamaModel(
                directory: Fixtures.model("llama-gqa"), backend: try Self.narrow.makeBackend(threads: 1), maxStepTokens: 64)
            _ = try EngineLoop(model: model, config: EngineConfig(pageSize: 40, kvMemory: .pages(16)))
        }
    }

    @Test func stepsLargerThanTheDeviceTakesAreRefused() throws {
        let backend = try Self.narrow.makeBackend(threads: 1)
        Self.expectRefusal("2048 rows per step exceed its limit of 256 (lower --max-batched-tokens)", device: "narrow") {
            _ = try LlamaModel(directory: Fixtures.model("llama-gqa"), backend: backend, maxStepTokens: 2048)
        }
    }

    @Test func weightDTypesOutsideTheDeviceAreRefused() throws {
        let backend = try Self.narrow.makeBackend(threads: 1)
        Self.expectRefusal("weight dtype bf16 is not supported (supports: f32)", device: "narrow") {
            _ = try LlamaModel(directory: Fixtures.model("llama-linear-bf16"), backend: backend, maxStepTokens: 64)
        }
    }

    @Test func aNarrowDeviceRunsWhatItClaims() throws {
        let model = try LlamaModel(
            directory: Fixtures.model("llama-gqa"), backend: try Self.narrow.makeBackend(threads: 1), maxStepTokens: 64)
        let collector = EventCollector()
        let engine = try EngineLoop(
            model: model, config: EngineConfig(pageSize: 16, kvMemory: .pages(16), maxBatchedTokens: 64), sink: collector.receive)
        defer { engine.shutdown() }
        let reference = try ModelReference.load("llama-gqa").prompts[0]
        let outputs = try EngineHarness.run(
            [EngineRequest(id: RequestID(1), promptTokenIDs: reference.promptTokenIDs, params: EngineHarness.greedy)], on: engine,
            collector: collector)
        #expect(outputs[0].tokenIDs == reference.greedyTokenIDs)
    }
}
