// RadixServe: load counters the engine thread publishes for other threads.

/// A snapshot of an engine's load and cumulative work, published after every step.
public struct EngineLoad: Sendable, Hashable {
    /// Admitted requests.
    public var runningCount = 0
    /// Requests queued for admission (including retracted ones).
    public var waitingCount = 0
    /// KV pages on the free list.
    public var freePageCount = 0
    /// Cached pages that could be evicted now.
    public var evictablePageCount = 0
    /// Pages owned by the prefix cache.
    public var cachedPageCount = 0
    /// Pool size.
    public var totalPageCount = 0
    /// Prefill tokens per second of prefill-step time over the last measurement window (about
    /// one second of work, idle time excluded); 0 until measured.
    public var recentPrefillTokensPerSecond = 0.0
    /// Generated tokens per second of step time over the last measurement window.
    public var recentDecodeTokensPerSecond = 0.0
    /// Retractions since start.
    public var retractionTotal = 0
    /// Cumulative work since start.
    public var stats = EngineStats()

    /// Creates an empty snapshot.
    public init() {}
}

/// Cumulative step counters and where the engine thread's time went.
public struct EngineStats: Sendable, Hashable {
    /// Steps run.
    public var stepCount = 0
    /// Prefill steps among them.
    public var prefillStepCount = 0
    /// Prompt (and recomputed) tokens run through prefill.
    public var prefillTokenCount = 0
    /// Tokens sampled.
    public var sampledTokenCount = 0
    /// Seconds spent in `schedule()` and `postprocess`.
    public var schedulingSeconds = 0.0
    /// Seconds spent preparing inputs and in the model's forward pass.
    public var forwardSeconds = 0.0
    /// Seconds spent downloading logits and sampling.
    public var samplingSeconds = 0.0

    /// Creates zeroed counters.
    public init() {}
}
