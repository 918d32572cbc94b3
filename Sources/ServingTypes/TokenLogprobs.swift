// RadixServe: log-probabilities reported with generated tokens.

/// Log-probabilities reported with a generated token.
///
/// Values are the log-softmax of the **raw model logits** (before penalties, temperature,
/// top-k/top-p/min-p), as SGLang and vLLM report by default: they describe the model's
/// distribution, not the one the token was drawn from.
public struct TokenLogprobs: Sendable, Hashable {
    /// Log-probability of the generated token.
    public var logprob: Float
    /// The `params.logprobs` most likely tokens with their log-probabilities, most likely first.
    public var top: [TokenLogprob]

    /// Creates a record.
    public init(logprob: Float, top: [TokenLogprob]) {
        self.logprob = logprob
        self.top = top
    }
}

/// A token id with its log-probability.
public struct TokenLogprob: Sendable, Hashable {
    /// The token.
    public var tokenID: Int32
    /// Its log-probability.
    public var logprob: Float

    /// Creates a pair.
    public init(tokenID: Int32, logprob: Float) {
        self.tokenID = tokenID
        self.logprob = logprob
    }
}
