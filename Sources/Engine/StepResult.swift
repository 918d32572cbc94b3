// RadixServe: what one model-runner step hands back.

import Scheduling
import ServingTypes

/// The results of one ``ModelRunner/run(_:)``: the sampled tokens, their log-probabilities and
/// where the step's time went.
///
/// The arrays share storage with buffers the runner reuses: drop the value before the next
/// ``ModelRunner/run(_:)`` and that step allocates nothing for them (a value still held is simply
/// copied on the runner's next write).
public struct StepResult: Sendable {
    /// One token per sampling entry of the batch, in batch order.
    public var sampled: [(requestID: RequestID, tokenID: Int32)]
    /// Log-probabilities of the sampled tokens, for requests that asked for them.
    public var logprobs: [RequestID: TokenLogprobs]
    /// Seconds in input preparation and the forward pass.
    public var forwardSeconds: Double
    /// Seconds reading the logits and sampling.
    public var samplingSeconds: Double
    /// Bytes read back from the device for sampling in this step (logits rows, or token ids or
    /// top-k candidates when sampled on the device).
    public var logitsBytes: Int
    /// Requests that must finish after their sampled token though no stop rule says so (an output
    /// constraint completed with no end-of-sequence token to sample, or could not continue).
    public var endings: [RequestID: FinishReason]

    /// Creates a result.
    public init(
        sampled: [(requestID: RequestID, tokenID: Int32)], logprobs: [RequestID: TokenLogprobs], forwardSeconds: Double,
        samplingSeconds: Double, logitsBytes: Int = 0, endings: [RequestID: FinishReason] = [:]
    ) {
        self.logitsBytes = logitsBytes
        self.endings = endings
        self.sampled = sampled
        self.logprobs = logprobs
        self.forwardSeconds = forwardSeconds
        self.samplingSeconds = samplingSeconds
    }
}
