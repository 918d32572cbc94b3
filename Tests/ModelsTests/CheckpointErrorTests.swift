import BackendCatalog
import Backends
import Foundation
import Models
import Testing
import TestSupport

/// Bad or missing files fail with errors that name the file, the tensor and what was expected.
@Suite struct CheckpointErrorTests {
    /// A copy of a fixture checkpoint in a temporary directory, for corrupting.
    func copyOfFixture(_ name: String = "llama-gqa") throws -> URL {
        let directory = try Fixtures.temporaryDirectory()
        let source = Fixtures.model(name)
        for file in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: directory.appendingPathComponent(file))
        }
        return directory
    }

    func load(_ directory: URL) throws -> LlamaModel {
        try LlamaModel(directory: directory, backend: try BackendCatalog.device(named: "reference").makeBackend(threads: 1),
            maxStepTokens: 16)
    }

    func expectError(_ code: ModelError.Code, containing fragments: [String], _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected a \(code) error")
        } catch let error as ModelError {
            #expect(error.code == code, "\(error)")
            for fragment in fragments { #expect(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'") }
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    func editConfig(_ directory: URL, _ edit: (inout [String: Any]) -> Void) throws {
        let url = directory.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
    }

    @Test func missingDirectoryNamesConfig() {
        expectError(.missingFile, containing: ["config.json", "/nonexistent"]) {
            _ = try load(URL(fileURLWithPath: "/nonexistent/model"))
        }
    }

    @Test func configThatIsNotJSON() throws {
        let directory = try copyOfFixture()
        try Data("{not json".utf8).write(to: directory.appendingPathComponent("config.json"))
        expectError(.invalidConfig, containing: ["config.json", "not a JSON object"]) { _ = try load(directory) }
    }

    @Test func unsupportedArchitectureListsSupportedOnes() throws {
        let directory = try copyOfFixture()
        try editConfig(directory) { $0["model_type"] = "gpt_neox" }
        expectError(.unsupportedArchitecture, containing: ["gpt_neox", "llama", "qwen3"]) { _ = try load(directory) }
    }

    @Test func missingOrInvalidConfigFields() throws {
        let directory = try copyOfFixture()
        try editConfig(directory) { $0["hidden_size"] = nil }
        expectError(.invalidConfig, containing: ["hidden_size"]) { _ = try load(directory) }
        try editConfig(directory) {
            $0["hidden_size"] = 64
            $0["num_key_value_heads"] = 3
        }
        expectError(.invalidConfig, containing: ["num_key_value_heads 3"]) { _ = try load(directory) }
        try editConfig(directory) {
            $0["num_key_value_heads"] = 2
            $0["rope_parameters"] = ["rope_type": "yarn", "rope_theta": 10000]
            $0["rope_scaling"] = nil
        }
        expectError(.invalidConfig, containing: ["yarn"]) { _ = try load(directory) }
    }

    @Test func shapeMismatchNamesFileTensorAndShapes() throws {
        let directory = try copyOfFixture()
        try editConfig(directory) { $0["intermediate_size"] = 100 }
        expectError(.shapeMismatch, containing: ["model.safetensors", "mlp.gate_proj.weight", "expected [100, 64]"]) {
            _ = try load(directory)
        }
    }

    @Test func missingWeightsFile() throws {
        let directory = try copyOfFixture()
        try FileManager.default.removeItem(at: directory.appendingPathComponent("model.safetensors"))
        expectError(.missingFile, containing: ["model.safetensors"]) { _ = try load(directory) }
    }

    @Test func missingTensorIsNamed() throws {
        let directory = try copyOfFixture()
        let url = directory.appendingPathComponent("model.safetensors")
        try SafetensorsWriter.rewrite(url) { tensors in tensors.removeValue(forKey: "model.norm.weight") }
        expectError(.missingTensor, containing: ["model.norm.weight"]) { _ = try load(directory) }
    }

    @Test func unsupportedDTypeIsNamed() throws {
        let directory = try copyOfFixture()
        let url = directory.appendingPathComponent("model.safetensors")
        try SafetensorsWriter.rewrite(url) { tensors in
            tensors["model.norm.weight"]!.dtype = "I64"
            tensors["model.norm.weight"]!.shape = [tensors["model.norm.weight"]!.data.count / 8]
        }
        expectError(.unsupportedDType, containing: ["model.norm.weight", "I64"]) { _ = try load(directory) }
    }

    @Test func truncatedAndCorruptSafetensors() throws {
        let directory = try copyOfFixture()
        let url = directory.appendingPathComponent("model.safetensors")
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count - 100).write(to: url)
        expectError(.invalidCheckpoint, containing: ["model.safetensors", "exceed the data section"]) { _ = try load(directory) }
        try Data([1, 2, 3]).write(to: url)
        expectError(.invalidCheckpoint, containing: ["too short"]) { _ = try load(directory) }
        var huge = Data(count: 16)
        huge.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(1 << 40).littleEndian, as: UInt64.self) }
        try huge.write(to: url)
        expectError(.invalidCheckpoint, containing: ["header length"]) { _ = try load(directory) }
        var garbage = Data(count: 8)
        garbage.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(4).littleEndian, as: UInt64.self) }
        garbage.append(contentsOf: Array("}{[]".utf8))
        try garbage.write(to: url)
        expectError(.invalidCheckpoint, containing: ["header is not a JSON object"]) { _ = try load(directory) }
    }

    /// Inputs that trapped before the fuzzer found them (Fuzz/corpus/FuzzSafetensors/crash-*, docs/FUZZING.md).
    @Test func safetensorsHeadersThatOverflowAreRejected() throws {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("model.safetensors")
        func file(headerLength: UInt64, _ header: String) -> Data {
            var data = Data(count: 8)
            data.withUnsafeMutableBytes { $0.storeBytes(of: headerLength.littleEndian, as: UInt64.self) }
            return data + Data(header.utf8)
        }
        // A header length above Int.max.
        try file(headerLength: 0xFA00_0000_0000_0036, #"{"x":{}}"#).write(to: url)
        expectError(.invalidCheckpoint, containing: ["header length 18014398509481984054"]) {
            _ = try SafetensorsFile(path: url.path)
        }
        // A shape whose byte count overflows Int.
        let header = #"{"big":{"dtype":"F32","shape":[65536,65536,65536,65536],"data_offsets":[0,0]}}"#
        try file(headerLength: UInt64(header.utf8.count), header).write(to: url)
        expectError(.invalidCheckpoint, containing: ["'big'", "too large to address"]) { _ = try SafetensorsFile(path: url.path) }
    }

    @Test func shardIndexWithBadShardName() throws {
        let directory = try copyOfFixture("llama-sharded")
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        try Data(#"{"weight_map": {"model.norm.weight": "../elsewhere.safetensors"}}"#.utf8).write(to: index)
        expectError(.invalidCheckpoint, containing: ["../elsewhere.safetensors"]) { _ = try load(directory) }
        try Data(#"{"weights": {}}"#.utf8).write(to: index)
        expectError(.invalidCheckpoint, containing: ["weight_map"]) { _ = try load(directory) }
    }

    @Test func tensorParallelSizeThatDoesNotDivide() throws {
        let config = try ModelConfig.load(directory: Fixtures.model("llama-gqa"))
        #expect(throws: ModelError.self) { try TensorParallelShard(rank: 0, size: 3).validate(config) }
        try TensorParallelShard(rank: 3, size: 4).validate(config)
        #expect(TensorParallelShard(rank: 3, size: 4).localKVHeads(config) == 1..<2)
    }
}
