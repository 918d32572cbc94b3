import BackendCPU
import Backends
import Benchmarks
import Foundation
import Models
import Testing
import TestSupport
import Tokenizers

/// `bench --workload quantization`: teacher-forced top-1 agreement and perplexity of int8 weights
/// against the unquantized checkpoint, on the demo corpus' held-out text.
@Suite struct QuantizationAccuracyTests {
    static let heldOutText = Fixtures.demoModel.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/demo_model/held-out.txt")

    static func backend(_ scheme: WeightQuantization) throws -> any ComputeBackend {
        let backend = try CPUDevice().makeBackend(threads: 2)
        try backend.enableWeightQuantization(scheme)
        return backend
    }

    /// The held-out text is found beside the demo model, and runs to more than 2,000 tokens.
    @Test func theHeldOutTextIsLongEnough() throws {
        #expect(BundledModel.heldOutText.standardizedFileURL.path == Self.heldOutText.standardizedFileURL.path)
        let text = try String(contentsOf: Self.heldOutText, encoding: .utf8)
        #expect(text.count > 14_000)
    }

    /// int8 keeps each fixture's greedy predictions and perplexity close to the unquantized
    /// model's (bounds from `bench --workload quantization` on 4,096 tokens, docs/BENCHMARKS.md,
    /// with room for the shorter text here), measured as the bench does it (the held-out text found
    /// beside the demo model); the unquantized model against itself agrees exactly.
    @Test(arguments: ["llama-gqa", "qwen3-qknorm", "mistral-mqa-f16", "llama-linear-bf16"])
    func int8StaysCloseToTheUnquantizedModel(model name: String) throws {
        let directory = Fixtures.model(name)
        let text = try String(contentsOf: Self.heldOutText, encoding: .utf8)
        let ids = try AutoTokenizer.load(directory: directory).encode(text).map { Int32($0) }
        let baseline = try LlamaModel(directory: directory, backend: try Self.backend(.none), maxStepTokens: 256, maxLogitRows: 256)
        let same = try QuantizationAccuracy.measure(baseline: baseline, quantized: baseline, tokens: ids, limit: 300, modelName: name)
        #expect(same.top1Agreement == 1 && same.perplexity == same.quantizedPerplexity && same.tokens == 300)
        let result = try QuantizationAccuracy.measure(directory: directory, scheme: .int8, limit: 512, makeBackend: Self.backend)
        #expect(result.scheme == "int8" && result.tokens == 512 && result.model == directory.path)
        #expect(result.top1Agreement >= 0.9, "\(result.summary)")
        #expect(abs(result.perplexityChange) < 2, "\(result.summary)")
    }

    @Test func anUnreadableTextIsAnErrorNamingTheFile() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/held-out.txt")
        let error = #expect(throws: QuantizationAccuracy.UnreadableText.self) {
            try QuantizationAccuracy.measure(
                directory: Fixtures.model("llama-gqa"), scheme: .int8, text: missing, makeBackend: Self.backend)
        }
        #expect(error?.description.contains("cannot read the held-out text /nonexistent/held-out.txt") == true)
    }
}
