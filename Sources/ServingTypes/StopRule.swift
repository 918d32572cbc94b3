// RadixServe: the one rule that decides whether a request has finished.

/// Decides whether a request is finished after it produced a token. The scheduler applies it
/// after every sampled token; the router applies it to what a lost worker had streamed.
///
/// A stop token (one of the request's `stopTokenIDs`, or the model's end-of-sequence tokens
/// unless `ignoreEOS`) finishes with `.stop` and is kept in the output; otherwise reaching
/// `maxTokens` generated tokens or the model's maximum length finishes with `.length`.
public struct StopRule: Hashable, Sendable {
    /// The model's end-of-sequence token ids.
    public var eosTokenIDs: Set<Int32>
    /// The longest sequence (prompt + output) the model runs.
    public var maxModelLength: Int

    /// Creates a rule.
    public init(eosTokenIDs: Set<Int32>, maxModelLength: Int) {
        self.eosTokenIDs = eosTokenIDs
        self.maxModelLength = maxModelLength
    }

    /// True when `token` ends a request with `params`.
    public func isStopToken(_ token: Int32, params: SamplingParams) -> Bool {
        params.stopTokenIDs.contains(token) || (!params.ignoreEOS && eosTokenIDs.contains(token))
    }

    /// Why a request should stop after producing `lastToken`, or `nil` to continue.
    /// - Parameters:
    ///   - outputCount: tokens generated so far, `lastToken` included.
    ///   - sequenceLength: prompt plus generated tokens.
    public func finishReason(
        params: SamplingParams, lastToken: Int32, outputCount: Int, sequenceLength: Int
    ) -> FinishReason? {
        if isStopToken(lastToken, params: params) { return .stop(tokenID: lastToken) }
        if outputCount >= params.maxTokens || sequenceLength >= maxModelLength { return .length }
        return nil
    }
}
