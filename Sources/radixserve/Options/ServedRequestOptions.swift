import ArgumentParser
import ServingTypes

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

    /// The request fields of `sampling` plus `--stop`. `--stop-token-id` is rejected by the
    /// commands before this is called.
    func fields(_ sampling: SamplingOptions) -> SamplingFields {
        var fields = sampling.fields
        fields.stop = stop
        return fields
    }
}
