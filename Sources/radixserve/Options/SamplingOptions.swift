import ArgumentParser
import ServingTypes

/// Sampling flags shared by generation commands. They build the request fields a router gets
/// (``fields``) and, through the same conversion the router applies, the engine's parameters
/// (``samplingParams``); ranges are those of `SamplingParams.validate()`.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Largest number of tokens to generate.")
    var maxTokens: Int = 64
    @Option(help: "Sampling temperature in [0, 100]; 0 is greedy.")
    var temperature: Float = 0
    @Option(help: "Sample among the K most likely tokens (0 or -1 = off).")
    var topK: Int = 0
    @Option(help: "Nucleus sampling mass in (0, 1] (1 = off).")
    var topP: Float = 1
    @Option(help: "Drop tokens less likely than this fraction of the top token, in [0, 1].")
    var minP: Float = 0
    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0
    @Flag(help: "Keep generating past end-of-sequence tokens.")
    var ignoreEOS = false
    @Option(help: "OpenAI frequency penalty in [-2, 2].")
    var frequencyPenalty: Double = 0
    @Option(help: "OpenAI presence penalty in [-2, 2].")
    var presencePenalty: Double = 0
    @Option(help: "Repetition penalty in (0, 100]; 1 is off.")
    var repetitionPenalty: Double = 1
    @Option(name: .customLong("stop-token-id"), help: "Stop after this token id; repeat for several.")
    var stopTokenIDs: [Int32] = []
    @Option(help: "The whole output must match this regular expression (README, \"Structured outputs\").") var regex: String?
    @Option(help: "The output must be JSON valid under this JSON Schema, given as its text.") var jsonSchema: String?

    /// Checks every flag with `SamplingParams.validate()`, naming the flag that is out of range.
    func validate() throws {
        do {
            _ = try fields.samplingParams(defaultMaxTokens: maxTokens)
        } catch {
            throw ValidationError(error.flagDescription)
        }
    }

    /// The request fields of these flags (a router gets them without `--stop-token-id`, which the
    /// client commands refuse). Fields at their "off" value are left out of the request body.
    var fields: SamplingFields {
        SamplingFields(
            maxTokens: maxTokens, temperature: SamplingFields.decimal(temperature), topP: SamplingFields.decimal(topP),
            topK: topK, minP: SamplingFields.decimal(minP), seed: Int64(bitPattern: seed), frequencyPenalty: frequencyPenalty,
            presencePenalty: presencePenalty, repetitionPenalty: repetitionPenalty,
            stopTokenIDs: stopTokenIDs.map(Int.init), ignoreEOS: ignoreEOS, regex: regex, jsonSchema: jsonSchema)
    }

    /// The engine's per-request parameters (prompts-file lines may override them).
    var samplingParams: SamplingParams {
        do {
            return try fields.samplingParams(defaultMaxTokens: maxTokens)
        } catch {
            // validate() ran when the arguments were parsed.
            preconditionFailure("sampling flags were not validated: \(error)")
        }
    }
}
