// RadixServe: what the scheduler reports back to the engine loop.

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

/// A snapshot of the scheduler's load, for reports to the router.
public struct SchedulerLoad: Hashable, Sendable {
    /// Requests queued for admission (including retracted ones).
    public var waitingCount: Int
    /// Admitted requests.
    public var runningCount: Int
    /// Pages on the free list.
    public var freePageCount: Int
    /// Cached pages that could be evicted now.
    public var evictablePageCount: Int
    /// Pages owned by the prefix cache.
    public var cachedPageCount: Int
    /// Pool size.
    public var totalPageCount: Int
}
