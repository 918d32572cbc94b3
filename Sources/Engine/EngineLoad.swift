// RadixServe: load counters the engine thread publishes for other threads.

import ServingTypes

/// A snapshot of an engine's load and cumulative work, published after every step.
public struct EngineLoad: Sendable, Hashable {
    /// What the worker reports to the router: the scheduler's counts and the engine's recent
    /// prefill and decode speeds (over about one second of work, idle time excluded; 0 until measured).
    public var report = LoadReport()
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
    /// Bytes read back from the device for sampling: full logits rows, or with on-device
    /// sampling only token ids or top-k candidates.
    public var logitsBytes = 0

    /// Creates zeroed counters.
    public init() {}
}
