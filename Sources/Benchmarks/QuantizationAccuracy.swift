// RadixServe: how far quantized weights move a model's predictions (`radixserve bench --workload quantization`).

import Backends
import Engine
import Foundation
import Models
import Tokenizers

/// Teacher-forced accuracy of a quantized model against the same checkpoint unquantized, on a
/// held-out text: both models read the same tokens in windows of ``window`` (each from an empty
/// cache), and at every position predict the next token. Reported: how often their top-1
/// predictions agree, and each model's perplexity on the text (exp of the mean negative
/// log-likelihood of the actual next tokens), so the quantization's cost shows in the model's
/// own terms.
public struct QuantizationAccuracy: Encodable, Sendable {
    public var model: String
    public var scheme: String
    public var weightDType: String
    public var tokens: Int
    /// Positions whose argmax the two models share, over all predicted positions.
    public var top1Agreement: Double
    public var perplexity: Double
    public var quantizedPerplexity: Double

    /// The held-out text cannot be read.
    public struct UnreadableText: Error, CustomStringConvertible {
        public var description: String
    }

    /// Tokens per window; each window predicts its tokens after the first.
    public static let window = 256

    /// Relative perplexity change, in percent.
    public var perplexityChange: Double { (quantizedPerplexity / perplexity - 1) * 100 }

    /// Two lines of text.
    public var summary: String {
        """
        model \(model) (\(weightDType) weights against \(scheme)), \(tokens) held-out tokens, teacher-forced
        top-1 agreement \(String(format: "%.2f", top1Agreement * 100))%; perplexity \(String(format: "%.3f", perplexity)) → \
        \(String(format: "%.3f", quantizedPerplexity)) (\(String(format: "%+.2f", perplexityChange))%)

        """
    }

    /// Loads the checkpoint in `directory` twice, on `makeBackend(.none)` and on
    /// `makeBackend(scheme)`, and measures them on `text` (default: the demo corpus' held-out text),
    /// at most `limit` tokens of it.
    /// - Throws: ``UnreadableText`` naming the file when `text` cannot be read, or what loading throws.
    public static func measure(
        directory: URL, scheme: WeightQuantization, text: URL = BundledModel.heldOutText, limit: Int = 4096,
        makeBackend: (WeightQuantization) throws -> any ComputeBackend
    ) throws -> QuantizationAccuracy {
        let content: String
        do { content = try String(contentsOf: text, encoding: .utf8) } catch {
            throw UnreadableText(description: "cannot read the held-out text \(text.path): \(error.localizedDescription)")
        }
        let tokens = try AutoTokenizer.load(directory: directory).encode(content).map { Int32($0) }
        func load(_ scheme: WeightQuantization) throws -> LlamaModel {
            try LlamaModel(directory: directory, backend: try makeBackend(scheme), maxStepTokens: window, maxLogitRows: window)
        }
        return try measure(
            baseline: try load(.none), quantized: try load(scheme), tokens: tokens, limit: limit, modelName: directory.path)
    }

    /// Runs `baseline` and `quantized` (the same checkpoint, `quantized` on a backend storing its
    /// weights as `scheme`) over `tokens`, at most `limit` of them.
    public static func measure(
        baseline: LlamaModel, quantized: LlamaModel, tokens: [Int32], limit: Int = 4096, modelName: String
    ) throws -> QuantizationAccuracy {
        let tokens = Array(tokens.prefix(limit))
        precondition(tokens.count >= 2, "needs at least two tokens")
        var (agreeing, predicted) = (0, 0)
        var (loss, quantizedLoss) = (0.0, 0.0)
        var start = 0
        while start + 1 < tokens.count {
            let chunk = Array(tokens[start..<min(start + window, tokens.count)])
            let rows = (0..<Int32(chunk.count)).map { $0 }
            let want = try baseline.prefillLogits(chunk, logitRows: rows)
            let got = try quantized.prefillLogits(chunk, logitRows: rows)
            for row in 0..<(chunk.count - 1) {
                let next = Int(chunk[row + 1])
                if want[row].withUnsafeBufferPointer(Sampler.argmax) == got[row].withUnsafeBufferPointer(Sampler.argmax) {
                    agreeing += 1
                }
                loss -= logSoftmax(want[row], at: next)
                quantizedLoss -= logSoftmax(got[row], at: next)
                predicted += 1
            }
            start += window
        }
        return QuantizationAccuracy(
            model: modelName, scheme: "\(quantized.backend.weightQuantization)",
            weightDType: baseline.weights.layers[0].qkv.dtype.description, tokens: tokens.count,
            top1Agreement: Double(agreeing) / Double(predicted), perplexity: exp(loss / Double(predicted)),
            quantizedPerplexity: exp(quantizedLoss / Double(predicted)))
    }

    /// `log softmax(values)[index]`, in double precision.
    static func logSoftmax(_ values: [Float], at index: Int) -> Double {
        let peak = Double(values.max()!)
        let sum = values.reduce(0.0) { $0 + exp(Double($1) - peak) }
        return Double(values[index]) - peak - log(sum)
    }
}
