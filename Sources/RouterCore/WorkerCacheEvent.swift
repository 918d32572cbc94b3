// RadixServe: what workers tell the router about their prefix caches.

/// One change to a worker's cached page set, as the router's index needs it (page hashes
/// only; see `PageHasher` for how hashes chain). Mirrors `KVEvent` without the token ids.
package enum WorkerCacheEvent: Hashable, Sendable {
    /// Pages were cached as a chain under `parentHash` (`nil`: the chain starts at the root).
    /// `pageHashes[0]`'s parent is `parentHash`, `pageHashes[i]`'s parent is `pageHashes[i-1]`.
    case stored(parentHash: UInt64?, pageHashes: [UInt64])
    /// Pages were evicted; each was a leaf of the worker's cache when removed.
    case removed(pageHashes: [UInt64])
    /// The worker dropped its whole cache.
    case cleared
}

/// The events of one engine step (or an idle heartbeat with no events).
///
/// `sequence` increases by one per batch that carries events, starting at 1 for an incarnation;
/// a heartbeat repeats the last sequence with no events, so a lost batch shows up as a gap.
package struct WorkerEventBatch: Hashable, Sendable {
    /// The sender.
    package var worker: WorkerID
    /// Changes whenever the worker process restarts (its cache is then empty).
    package var incarnation: UInt64
    /// The batch's sequence number within the incarnation.
    package var sequence: UInt64
    /// The changes, in the order they happened.
    package var events: [WorkerCacheEvent]

    /// Creates a batch.
    package init(worker: WorkerID, incarnation: UInt64, sequence: UInt64, events: [WorkerCacheEvent]) {
        self.worker = worker
        self.incarnation = incarnation
        self.sequence = sequence
        self.events = events
    }
}

/// A worker's whole cached page set, sent on request to resynchronise the router.
package struct WorkerSnapshot: Hashable, Sendable {
    /// The sender.
    package var worker: WorkerID
    /// The sender's current incarnation.
    package var incarnation: UInt64
    /// The sequence of the last batch whose effects the snapshot includes.
    package var sequence: UInt64
    /// Cached chains, each as a `stored` event would carry it, parents before children.
    package var chains: [(parentHash: UInt64?, pageHashes: [UInt64])]

    /// Creates a snapshot.
    package init(worker: WorkerID, incarnation: UInt64, sequence: UInt64, chains: [(parentHash: UInt64?, pageHashes: [UInt64])]) {
        self.worker = worker
        self.incarnation = incarnation
        self.sequence = sequence
        self.chains = chains
    }

    package static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.worker == rhs.worker && lhs.incarnation == rhs.incarnation && lhs.sequence == rhs.sequence
            && lhs.chains.elementsEqual(rhs.chains) { $0.parentHash == $1.parentHash && $0.pageHashes == $1.pageHashes }
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(worker)
        hasher.combine(incarnation)
        hasher.combine(sequence)
    }
}
