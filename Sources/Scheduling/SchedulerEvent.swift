// RadixServe: what the scheduler reports back to the engine loop.

import ServingTypes

/// An outcome to stream to the client. Events of one request arrive in order.
public enum SchedulerEvent: Hashable, Sendable {
    /// A generated token; `index` counts output tokens from 0.
    case token(requestID: RequestID, tokenID: Int32, index: Int)
    /// The request is done and holds no resources any more.
    case finished(
        requestID: RequestID,
        reason: FinishReason,
        promptTokenCount: Int,
        completionTokenCount: Int,
        cachedTokenCount: Int
    )
}
