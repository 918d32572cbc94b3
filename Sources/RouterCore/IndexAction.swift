// RadixServe: what the global prefix index asks of its owner.

/// Why the index stopped trusting a worker's event stream.
package enum ResyncReason: Hashable, Sendable {
    /// The worker is new to the index (or was purged) and its cache contents are unknown.
    case unknownState
    /// A batch arrived with `received` while `expected` was next.
    case sequenceGap(expected: UInt64, received: UInt64)
    /// A `stored` chain named a parent the worker does not hold.
    case unknownParent(UInt64)
    /// A `removed` event named a page the worker does not hold.
    case unknownPage(UInt64)
    /// The worker restarted; its old entries were purged.
    case newIncarnation(previous: UInt64, current: UInt64)
}

/// What the caller must do after the index consumed a batch or snapshot.
package enum IndexAction: Hashable, Sendable {
    /// Applied; nothing to do.
    case applied
    /// A repeated or old batch (or a heartbeat); ignored.
    case ignoredDuplicate
    /// Ignored because a snapshot has been requested and not yet received.
    case ignoredAwaitingSnapshot
    /// The worker is not registered with the index; ignored.
    case ignoredUnknownWorker
    /// Ask the worker for a ``WorkerSnapshot``; until it arrives its batches are ignored.
    case requestSnapshot(WorkerID, ResyncReason)
}
