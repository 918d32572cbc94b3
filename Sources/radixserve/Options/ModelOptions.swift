import BackendCatalog
import ArgumentParser
import Backends
import Foundation
import Models

/// Where the model is and what runs it.
struct ModelOptions: ParsableArguments {
    @Option(help: """
        Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.json). \
        Default: $RADIXSERVE_MODEL, else the bundled demo model (models/demo).
        """)
    var model: String = BundledModel.defaultPath
    @Option(help: "Compute backend: \(BackendCatalog.usage). Default: plugin when $RADIXSERVE_BACKEND_PLUGIN is set, else cpu.")
    var backend: String = BackendCatalog.defaultName()
    @Option(help: "Compute threads (0 = one per core).")
    var threads: Int = 0
    @Option(help: "Tokens per KV-cache page.")
    var pageSize: Int = 16
    @Option(help: "Matmul weights as loaded (none) or quantized at load to int8 blocks of 32 with one scale each (int8; the device must support it: cpu does).")
    var quantize: WeightQuantization = .none

    func validate() throws {
        guard threads >= 0 else { throw ValidationError("--threads must be ≥ 0, got \(threads)") }
        guard pageSize >= 1 && pageSize <= 1024 else { throw ValidationError("--page-size must be in 1...1024, got \(pageSize)") }
        // Loads a plugin here, so a bad library fails before anything starts.
        do { _ = try BackendCatalog.device(named: backend) } catch { throw ValidationError("--backend: \(error)") }
    }

    /// Throws unless `--model` exists. Commands call it from their own `validate()` when they
    /// load the model here, and skip it when they send requests to a server (`--url`) instead.
    func validateModelExists() throws {
        if let problem = BundledModel.problem(model: model) { throw ValidationError(problem) }
    }

    /// Whether `--model` was given (its value differs from the default path).
    var isModelGiven: Bool { model != BundledModel.defaultPath }

    var directory: URL { URL(fileURLWithPath: model) }

    /// Loads the model onto a new backend, once its device is checked against the checkpoint and
    /// `requirements` (the engine's KV cache dtype and page size).
    func loadModel(maxStepTokens: Int = 2048, requirements: DeviceRequirements) throws -> LlamaModel {
        let backend = try BackendCatalog.makeBackend(named: backend, threads: threads, quantization: quantize)
        return try LlamaModel(directory: directory, backend: backend, maxStepTokens: maxStepTokens, requirements: requirements)
    }
}

/// `--quantize` values: none, int8.
extension WeightQuantization: ExpressibleByArgument {}
