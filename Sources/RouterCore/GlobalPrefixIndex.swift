// RadixServe: the router's exact map from cached page-hash chains to the workers holding them.

import ServingTypes

/// Which workers hold which pages, kept exact from worker events (DESIGN §3).
///
/// Keys are `PageHasher` chain hashes, so one hash names a page together with its whole prefix
/// and namespace; a flat hash map therefore replaces a tree. Each entry holds the set of worker
/// slots caching the page, its parent hash and its depth. Because every worker evicts leaves
/// only, each worker's set is prefix-closed, which lets ``match(pageHashes:now:)`` gallop.
///
/// Per worker the index tracks the incarnation and last applied sequence; a gap, an unknown
/// parent/page or a new incarnation returns ``IndexAction/requestSnapshot(_:_:)`` and the
/// worker's batches are ignored until ``applySnapshot(_:)`` replaces its entries.
///
/// Pending entries (`GlobalPrefixIndex+Pending.swift`) credit a worker with a prompt it was just
/// sent, until its `stored` event arrives or a TTL passes.
///
/// Value type; not thread-safe (own it from one task or actor). Memory: ~56 B per distinct page
/// plus 8 B per (worker, page).
package struct GlobalPrefixIndex: Sendable {
    struct Entry: Sendable {
        var workers = WorkerSet()
        var parent: UInt64
        /// 1-based position of the page in its chain (a root page has depth 1, parent 0).
        var depth: Int32
    }

    struct WorkerState: Sendable {
        var slot: Int
        var incarnation: UInt64
        var lastSequence: UInt64
        var isAwaitingSnapshot: Bool
        var pages: Set<UInt64> = []
    }

    var entries: [UInt64: Entry] = [:]
    var workers: [WorkerID: WorkerState] = [:]
    var slotOwners: [WorkerID?] = []
    var pending = PendingTable()

    /// Creates an empty index.
    package init() {}

    /// The registered workers.
    package var workerIDs: [WorkerID] { workers.keys.sorted() }

    /// Distinct pages held by at least one worker (pending entries excluded).
    package var pageCount: Int { entries.count }

    /// The confirmed pages of `worker` (empty if unknown).
    package func pages(of worker: WorkerID) -> Set<UInt64> { workers[worker]?.pages ?? [] }

    /// Whether `worker` holds page `hash` according to its events (pending entries excluded).
    package func holds(_ worker: WorkerID, _ hash: UInt64) -> Bool { workers[worker]?.pages.contains(hash) ?? false }

    /// Whether `worker`'s stream is waiting for a snapshot.
    package func isAwaitingSnapshot(_ worker: WorkerID) -> Bool { workers[worker]?.isAwaitingSnapshot ?? false }

    // MARK: - Membership

    /// Registers `worker`. With `lastSequence` (a worker that has just started, cache empty,
    /// having sent batches up to that sequence) it is in sync at once and `.applied` is returned;
    /// without, its contents are unknown and `.requestSnapshot(worker, .unknownState)` is returned.
    /// Re-registering purges the old entries first.
    /// Precondition: fewer than `WorkerSet.capacity` workers are registered.
    package mutating func addWorker(_ worker: WorkerID, incarnation: UInt64, lastSequence: UInt64? = nil) -> IndexAction {
        removeWorker(worker)
        let slot = slotOwners.firstIndex(of: nil) ?? slotOwners.count
        precondition(slot < WorkerSet.capacity, "GlobalPrefixIndex holds at most \(WorkerSet.capacity) workers")
        if slot == slotOwners.count { slotOwners.append(worker) } else { slotOwners[slot] = worker }
        workers[worker] = WorkerState(
            slot: slot, incarnation: incarnation, lastSequence: lastSequence ?? 0, isAwaitingSnapshot: lastSequence == nil)
        return lastSequence == nil ? .requestSnapshot(worker, .unknownState) : .applied
    }

    /// Removes `worker` and every entry and pending entry it had (purge on removal or loss).
    /// O(pages of the worker + live pending leases). Unknown workers are ignored.
    package mutating func removeWorker(_ worker: WorkerID) {
        guard let state = workers.removeValue(forKey: worker) else { return }
        dropPages(of: state)
        pending.purge(slot: state.slot)
        slotOwners[state.slot] = nil
    }

    private mutating func dropPages(of state: WorkerState) {
        for hash in state.pages { removeSlot(state.slot, from: hash) }
    }

    private mutating func removeSlot(_ slot: Int, from hash: UInt64) {
        guard var entry = entries[hash] else { return }
        entry.workers.remove(slot)
        entries[hash] = entry.workers.isEmpty ? nil : entry
    }

    // MARK: - Events

    /// Applies one batch. Events before a failing one stay applied; the failure marks the worker
    /// as awaiting a snapshot. O(pages in the batch).
    package mutating func apply(_ batch: WorkerEventBatch) -> IndexAction {
        guard var state = workers[batch.worker] else { return .ignoredUnknownWorker }
        if batch.incarnation != state.incarnation {
            let previous = state.incarnation
            dropPages(of: state)
            pending.purge(slot: state.slot)
            state.pages = []
            state.incarnation = batch.incarnation
            return resync(batch.worker, state, .newIncarnation(previous: previous, current: batch.incarnation))
        }
        if state.isAwaitingSnapshot { return .ignoredAwaitingSnapshot }
        if batch.sequence <= state.lastSequence { return .ignoredDuplicate }
        let expected = state.lastSequence + 1
        // NOTE: a heartbeat repeats the last sequence, so an empty batch that is ahead means
        // the batch carrying that sequence was lost.
        if batch.events.isEmpty {
            return resync(batch.worker, state, .missedBatches(lastReceived: state.lastSequence, reported: batch.sequence))
        }
        if batch.sequence != expected {
            return resync(batch.worker, state, .sequenceGap(expected: expected, received: batch.sequence))
        }
        for event in batch.events {
            if let reason = apply(event, to: &state) { return resync(batch.worker, state, reason) }
        }
        state.lastSequence = batch.sequence
        workers[batch.worker] = state
        if !pending.leases.isEmpty { pending.confirm(slot: state.slot) { state.pages.contains($0) } }
        return .applied
    }

    private mutating func resync(_ worker: WorkerID, _ state: WorkerState, _ reason: ResyncReason) -> IndexAction {
        var state = state
        state.isAwaitingSnapshot = true
        workers[worker] = state
        return .requestSnapshot(worker, reason)
    }

    /// Applies one event; returns a reason when the stream can no longer be trusted.
    private mutating func apply(_ event: CacheEvent, to state: inout WorkerState) -> ResyncReason? {
        switch event {
        case .stored(_, let parentHash, let pageHashes):
            return store(parentHash: parentHash, pageHashes: pageHashes[...], into: &state)
        case .removed(let pageHashes):
            for hash in pageHashes {
                guard state.pages.remove(hash) != nil else { return .unknownPage(hash) }
                removeSlot(state.slot, from: hash)
            }
        case .cleared:
            dropPages(of: state)
            state.pages = []
        }
        return nil
    }

    private mutating func store(parentHash: UInt64?, pageHashes: ArraySlice<UInt64>, into state: inout WorkerState) -> ResyncReason? {
        var depth: Int32 = 0
        var parent: UInt64 = 0
        if let parentHash {
            guard state.pages.contains(parentHash), let parentEntry = entries[parentHash] else {
                return .unknownParent(parentHash)
            }
            depth = parentEntry.depth
            parent = parentHash
        }
        for hash in pageHashes {
            depth += 1
            var entry = entries[hash] ?? Entry(parent: parent, depth: depth)
            entry.workers.insert(state.slot)
            entries[hash] = entry
            state.pages.insert(hash)
            parent = hash
        }
        return nil
    }

    /// Replaces `snapshot.worker`'s entries with the snapshot's chains and resumes its stream
    /// after `snapshot.sequence`. Returns `.requestSnapshot` again if a chain's parent is missing
    /// (a malformed snapshot), `.ignoredUnknownWorker` for unregistered workers.
    package mutating func applySnapshot(_ snapshot: WorkerSnapshot) -> IndexAction {
        guard var state = workers[snapshot.worker] else { return .ignoredUnknownWorker }
        dropPages(of: state)
        state.pages = []
        state.incarnation = snapshot.incarnation
        for chain in snapshot.chains {
            if let reason = store(parentHash: chain.parentHash, pageHashes: chain.pageHashes[...], into: &state) {
                return resync(snapshot.worker, state, reason)
            }
        }
        state.lastSequence = snapshot.sequence
        state.isAwaitingSnapshot = false
        workers[snapshot.worker] = state
        if !pending.leases.isEmpty { pending.confirm(slot: state.slot) { state.pages.contains($0) } }
        return .applied
    }
}
