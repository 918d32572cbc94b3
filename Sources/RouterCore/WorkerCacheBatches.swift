// RadixServe: what workers tell the router about their prefix caches.

import ServingTypes

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
    package var events: [CacheEvent]

    /// Creates a batch.
    package init(worker: WorkerID, incarnation: UInt64, sequence: UInt64, events: [CacheEvent]) {
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
    package var chains: [CachedChain]

    /// Creates a snapshot.
    package init(worker: WorkerID, incarnation: UInt64, sequence: UInt64, chains: [CachedChain]) {
        self.worker = worker
        self.incarnation = incarnation
        self.sequence = sequence
        self.chains = chains
    }
}
