import ArgumentParser
import Engine
import Scheduling
import ServingTypes

/// Sampling flags shared by generation commands.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Largest number of tokens to generate.")
    var maxTokens: Int = 64

    @Option(help: "Sampling temperature in 0...2; 0 is greedy.")
    var temperature: Float = 0

    @Option(help: "Sample among the K most likely tokens (0 = off).")
    var topK: Int = 0

    @Option(help: "Nucleus sampling mass in (0, 1] (1 = off).")
    var topP: Float = 1

    @Option(help: "Drop tokens less likely than this fraction of the top token, in [0, 1].")
    var minP: Float = 0

    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Flag(help: "Keep generating past end-of-sequence tokens.")
    var ignoreEOS = false

    @Option(help: "OpenAI frequency penalty in [-2, 2] (engine runs only).")
    var frequencyPenalty: Double = 0

    @Option(help: "OpenAI presence penalty in [-2, 2] (engine runs only).")
    var presencePenalty: Double = 0

    @Option(help: "Repetition penalty in (0, 100]; 1 is off (engine runs only).")
    var repetitionPenalty: Double = 1

    @Option(name: .customLong("stop-token-id"), help: "Stop after this token id; repeat for several.")
    var stopTokenIDs: [Int32] = []

    func validate() throws {
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be ≥ 1, got \(maxTokens)") }
        guard temperature.isFinite && temperature >= 0 && temperature <= 2 else {
            throw ValidationError("--temperature must be in 0...2, got \(temperature)")
        }
        guard topK >= 0 else { throw ValidationError("--top-k must be ≥ 0, got \(topK)") }
        guard topP.isFinite && topP > 0 && topP <= 1 else { throw ValidationError("--top-p must be in (0, 1], got \(topP)") }
        guard minP.isFinite && minP >= 0 && minP <= 1 else { throw ValidationError("--min-p must be in [0, 1], got \(minP)") }
    }

    /// The engine's per-request parameters (prompts-file lines may override them).
    var samplingParams: SamplingParams {
        SamplingParams(
            maxTokens: maxTokens, temperature: Double(temperature), topK: topK, topP: Double(topP), minP: Double(minP),
            seed: seed, frequencyPenalty: frequencyPenalty, presencePenalty: presencePenalty,
            repetitionPenalty: repetitionPenalty, stopTokenIDs: Set(stopTokenIDs), ignoreEOS: ignoreEOS)
    }
}
