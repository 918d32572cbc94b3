// RadixServe: a worker's load, as the scheduler counts it and the router reads it.

/// A worker's load: what its scheduler counts after each step, what travels in heartbeats, and
/// what the router's dispatch policies read. Speeds are 0 until the worker has measured them.
public struct LoadReport: Hashable, Sendable {
    /// Admitted requests (being prefilled or decoded).
    public var runningCount: Int
    /// Requests queued for admission (including retracted ones).
    public var waitingCount: Int
    /// Prompt tokens of waiting requests still to prefill (uncached ones at their last match,
    /// all of them for requests never matched).
    public var waitingPrefillTokens: Int
    /// KV pages on the free list.
    public var freePages: Int
    /// Cached pages that could be evicted now (unlocked).
    public var evictablePages: Int
    /// Pages owned by the prefix cache.
    public var cachedPages: Int
    /// Pool size.
    public var totalPages: Int
    /// Recent prefill speed, tokens per second of prefill-step time; 0 until measured.
    public var prefillTokensPerSecond: Double
    /// Recent decode speed, generated tokens per second of step time; 0 until measured.
    public var decodeTokensPerSecond: Double

    /// Creates a report; every figure defaults to idle, empty and unmeasured.
    public init(
        runningCount: Int = 0, waitingCount: Int = 0, waitingPrefillTokens: Int = 0, freePages: Int = 0,
        evictablePages: Int = 0, cachedPages: Int = 0, totalPages: Int = 0, prefillTokensPerSecond: Double = 0,
        decodeTokensPerSecond: Double = 0
    ) {
        self.runningCount = runningCount
        self.waitingCount = waitingCount
        self.waitingPrefillTokens = waitingPrefillTokens
        self.freePages = freePages
        self.evictablePages = evictablePages
        self.cachedPages = cachedPages
        self.totalPages = totalPages
        self.prefillTokensPerSecond = prefillTokensPerSecond
        self.decodeTokensPerSecond = decodeTokensPerSecond
    }
}
