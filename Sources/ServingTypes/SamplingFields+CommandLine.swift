// RadixServe: sampling fields and their errors as command-line flags spell them.

extension SamplingFields {
    /// The Double that prints like `value` (0.7, not 0.699999988079071), so a single-precision
    /// flag value reaches the JSON body as it was typed.
    public static func decimal(_ value: Float) -> Double { Double(value.description) ?? Double(value) }
}

extension InvalidParameter {
    /// The command-line flag of the parameter: its API name in kebab case (`top_p` is `--top-p`),
    /// except `stop_token_ids`, whose flag `--stop-token-id` takes one id and repeats.
    public var flag: String {
        name == "stop_token_ids" ? "--stop-token-id" : "--" + name.split(separator: "_").joined(separator: "-")
    }

    /// The error as a command-line tool reports it, naming the flag:
    /// `--top-p 0.0 is out of range: must be in (0, 1]`.
    public var flagDescription: String { "\(flag) \(value) is out of range: must be in \(allowed)" }
}
