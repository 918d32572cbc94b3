// RadixServe: request lifecycle states.

import ServingTypes

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
