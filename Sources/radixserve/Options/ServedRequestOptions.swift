import ArgumentParser
import ServingClient

/// Request flags of commands that generate through a router (`generate --url`, `chat`).
struct ServedRequestOptions: ParsableArguments {
    @Option(help: "Served model name to request (default: the first model of the router's /v1/models).")
    var modelName: String?

    @Option(help: "Stop when the text contains this string; repeat for several (with --url).")
    var stop: [String] = []

    @Flag(help: "Wait for the whole answer instead of streaming it (with --url).")
    var noStream = false

    /// Whether any of these flags was given.
    var isAnyGiven: Bool { modelName != nil || !stop.isEmpty || noStream }

    /// `--model-name`, or the first model the router serves (nil if it lists none).
    func model(from client: RouterClient) throws -> String? {
        if let modelName { return modelName }
        return try client.models().first?.id
    }

    /// The request fields for `sampling` plus `--stop`. `--stop-token-id` has no OpenAI field and
    /// is rejected by the commands before this is called.
    func fields(_ sampling: SamplingOptions) -> SamplingFields {
        SamplingFields(
            maxTokens: sampling.maxTokens, temperature: Self.decimal(sampling.temperature),
            topP: Self.decimal(sampling.topP), topK: sampling.topK, minP: Self.decimal(sampling.minP),
            seed: sampling.seed, stop: stop,
            frequencyPenalty: sampling.frequencyPenalty, presencePenalty: sampling.presencePenalty,
            repetitionPenalty: sampling.repetitionPenalty, ignoreEOS: sampling.ignoreEOS)
    }

    /// The Double that prints like `value` (0.7, not 0.699999988079071), for the JSON body.
    private static func decimal(_ value: Float) -> Double { Double(value.description) ?? Double(value) }
}
