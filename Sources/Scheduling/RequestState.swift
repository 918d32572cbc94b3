// RadixServe: request lifecycle states and finish reasons.

/// Why a request stopped generating.
public enum FinishReason: Hashable, Sendable {
    /// Hit `maxTokens` or the model's maximum length.
    case length
    /// Sampled a stop token or an end-of-sequence token (kept in the output).
    case stop(tokenID: Int32)
    /// Aborted by the client or the engine.
    case abort
    /// Refused or failed; the message is meant for the client.
    case error(message: String)
}

/// Where a request is in the scheduler.
///
/// ```
///  add ─▶ waiting ──admit──▶ running ──finish/abort──▶ finished
///            ▲                  │
///            └────retract───────┘   (pages released, recomputed later)
/// ```
public enum RequestState: Hashable, Sendable {
    /// Queued; holds no pages and no locks.
    case waiting
    /// Admitted; holds a page table and possibly a prefix-cache lock.
    case running
    /// Done; holds nothing.
    case finished(FinishReason)
}
