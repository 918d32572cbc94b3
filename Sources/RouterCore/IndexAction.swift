// RadixServe: what the global prefix index asks of its owner.

/// Why the index stopped trusting a worker's event stream; the description is the log's wording.
package enum ResyncReason: Hashable, Sendable, CustomStringConvertible {
    /// The worker is new to the index (or was purged) and its cache contents are unknown.
    case unknownState
    /// A batch arrived with `received` while `expected` was next.
    case sequenceGap(expected: UInt64, received: UInt64)
    /// A heartbeat (or snapshot) says batch `reported` was sent, but the last batch that arrived
    /// was `lastReceived`: the batches in between were lost.
    case missedBatches(lastReceived: UInt64, reported: UInt64)
    /// A `stored` chain named a parent the worker does not hold.
    case unknownParent(UInt64)
    /// A `removed` event named a page the worker does not hold.
    case unknownPage(UInt64)
    /// The worker restarted; its old entries were purged.
    case newIncarnation(previous: UInt64, current: UInt64)

    package var description: String {
        func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
        return switch self {
        case .unknownState: "its cache contents are unknown"
        case .sequenceGap(let expected, let received): "cache-event batch \(received) arrived when \(expected) was next"
        case .missedBatches(let lastReceived, let reported):
            "it reports cache-event batch \(reported) sent, but the last batch received was \(lastReceived)"
        case .unknownParent(let hash): "a stored chain continues page \(hex(hash)), which the worker does not hold"
        case .unknownPage(let hash): "a removed event names page \(hex(hash)), which the worker does not hold"
        case .newIncarnation(let previous, let current): "it restarted (incarnation \(previous) → \(current))"
        }
    }
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
