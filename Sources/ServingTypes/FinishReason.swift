// RadixServe: why a request stopped generating.

/// Why a request stopped generating; the same value in the scheduler, on the wire and in the router.
public enum FinishReason: Hashable, Sendable {
    /// Hit `maxTokens` or the model's maximum length.
    case length
    /// Sampled a stop token or an end-of-sequence token (kept in the output).
    case stop(tokenID: Int32)
    /// Aborted by the client or the engine.
    case abort
    /// Refused or failed; the message is meant for the client.
    case error(message: String)

    /// OpenAI's `finish_reason` string: `stop`, `length`, `abort` or `error`.
    public var openAIName: String {
        switch self {
        case .stop: "stop"
        case .length: "length"
        case .abort: "abort"
        case .error: "error"
        }
    }

    /// The message of an `.error` reason, `nil` otherwise.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }
}
