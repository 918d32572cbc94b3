// RadixServe: the router's decision state — index, registry and policy behind one API.

import PageHashing
import ServingTypes

/// Side effects the owner of ``RouterState`` must perform (sending, logging); the state itself
/// does no I/O.
package enum RouterAction: Hashable, Sendable {
    /// Ask the worker for a full cache snapshot.
    case requestSnapshot(WorkerID, ResyncReason)
    /// The worker missed its heartbeats: it is unroutable and its index entries were purged.
    case workerLost(WorkerID)
    /// The worker's cache events never matched the prompts it served: its index entries were
    /// purged and it is routed by load only from now on (log it once).
    case cacheEventsUntrusted(WorkerID, completedPrompts: Int, unmatchedStoredPages: Int)
}

/// A dispatch decision whose load is reserved. Pass it to ``RouterState/finish(_:)`` exactly
/// once on every exit path; retrying elsewhere means finishing this one and routing again.
package struct RouteDecision: Hashable, Sendable {
    /// Where to send the request.
    package var worker: WorkerID
    /// Leading prompt pages the worker was credited with.
    package var matchedPages: Int
    /// The cost model's prediction for the chosen worker.
    package var predictedTTFTSeconds: Double
    /// The load reservation to release.
    package var reservation: LoadReservation
    /// The pending index entry recorded for the prompt, if it had a whole page.
    package var pendingLease: PendingLease?
}

/// Everything the router decides with: the ``GlobalPrefixIndex``, the ``WorkerRegistry`` and a
/// ``Dispatcher``. Events, heartbeats and decisions go through here so that the three stay
/// consistent (a lost worker is purged from the index; a decision reserves load and records a
/// pending entry). Value type; not thread-safe: own it from one actor.
package struct RouterState: Sendable {
    /// The prefix index.
    package private(set) var index = GlobalPrefixIndex()
    /// Membership and load.
    package private(set) var registry: WorkerRegistry
    /// The policy and its state.
    package var dispatcher: Dispatcher
    /// The hash chain definition agreed with the workers (seed and page size).
    package let hasher: PageHasher
    /// How long a pending entry lives without its `stored` event.
    package var pendingTTL: Duration
    /// Per registered worker: whether its cache events name the router's chains.
    package private(set) var audits: [WorkerID: CacheEventAudit] = [:]

    /// Creates empty state.
    package init(
        hasher: PageHasher, dispatcher: Dispatcher = Dispatcher(), registry: WorkerRegistry = WorkerRegistry(),
        pendingTTL: Duration = .seconds(2)
    ) {
        self.hasher = hasher
        self.dispatcher = dispatcher
        self.registry = registry
        self.pendingTTL = pendingTTL
    }

    /// Adds a worker after its handshake (`totalPages`: its KV pool size). `lastSequence` non-nil
    /// means its cache is known empty up to that batch; otherwise a snapshot is requested.
    package mutating func addWorker(
        _ worker: WorkerID, incarnation: UInt64, totalPages: Int = 0, lastSequence: UInt64? = nil, now: RouterInstant
    ) -> [RouterAction] {
        registry.add(worker, incarnation: incarnation, totalPages: totalPages, now: now)
        audits[worker] = CacheEventAudit()
        return actions(index.addWorker(worker, incarnation: incarnation, lastSequence: lastSequence))
    }

    /// Routes nothing more to a worker that is shutting down (it finishes what it runs).
    package mutating func markDraining(_ worker: WorkerID) {
        registry.markDraining(worker)
    }

    /// Removes a worker and purges its index and pending entries.
    package mutating func removeWorker(_ worker: WorkerID) {
        registry.remove(worker)
        index.removeWorker(worker)
        audits[worker] = nil
    }

    /// How far the router trusts `worker`'s cache events (`unverified` for unknown workers).
    package func cacheEventTrust(of worker: WorkerID) -> CacheEventTrust { audits[worker]?.trust ?? .unverified }

    /// Applies a worker's event batch (also a heartbeat) and its load report.
    package mutating func apply(_ batch: WorkerEventBatch, report: LoadReport? = nil, now: RouterInstant) -> [RouterAction] {
        guard registry.contains(batch.worker) else { return [] }
        let revived = registry.heartbeat(batch.worker, now: now, report: report)
        if cacheEventTrust(of: batch.worker) == .untrusted { return [] }
        if revived, !index.workerIDs.contains(batch.worker) {
            // Lost earlier and purged: its cache contents are unknown again.
            _ = index.addWorker(batch.worker, incarnation: batch.incarnation)
            return [.requestSnapshot(batch.worker, .unknownState)]
        }
        let result = actions(index.apply(batch))
        let stored = batch.events.flatMap { event -> [UInt64] in
            if case .stored(_, _, let pageHashes) = event { return pageHashes }
            return []
        }
        guard !stored.isEmpty, let verdict = audits[batch.worker]?.stored(stored), verdict == .untrusted else { return result }
        index.removeWorker(batch.worker)
        let audit = audits[batch.worker]!
        return [.cacheEventsUntrusted(
            batch.worker, completedPrompts: audit.completedPrompts, unmatchedStoredPages: audit.unmatchedStoredPages)]
    }

    /// Replaces a worker's index entries with a snapshot.
    package mutating func applySnapshot(_ snapshot: WorkerSnapshot, now: RouterInstant) -> [RouterAction] {
        registry.heartbeat(snapshot.worker, now: now)
        if cacheEventTrust(of: snapshot.worker) == .untrusted { return [] }
        return actions(index.applySnapshot(snapshot))
    }

    /// A request whose prompt had `promptTokens` tokens completed on `worker`: evidence for the
    /// cache-event audit once the worker's next `stored` batch arrives.
    package mutating func requestCompleted(on worker: WorkerID, promptTokens: Int) {
        if promptTokens >= hasher.pageSize { audits[worker]?.completed() }
    }

    /// Periodic housekeeping: expires pending entries and marks silent workers lost (purging
    /// them from the index). Call every heartbeat interval or so.
    package mutating func tick(now: RouterInstant) -> [RouterAction] {
        index.expirePending(now: now)
        return registry.sweep(now: now).map { worker in
            index.removeWorker(worker)
            return .workerLost(worker)
        }
    }

    /// Feeds a measured prefill into the worker's speed estimate.
    package mutating func observePrefill(_ worker: WorkerID, tokens: Int, seconds: Double) {
        registry.observePrefill(worker, tokens: tokens, seconds: seconds)
    }

    /// Chooses a worker for `tokens`, reserves its load and records a pending entry for the
    /// prompt's pages there. Returns nil when no routable worker remains after `excluding`.
    package mutating func route(
        tokens: ArraySlice<Int32>, namespace: UInt64, outputTokens: Int, now: RouterInstant,
        excluding: Set<WorkerID> = []
    ) -> RouteDecision? {
        let hashes = hasher.pageHashes(tokens, namespace: namespace)
        return route(pageHashes: hashes, promptTokens: tokens.count, outputTokens: outputTokens, now: now, excluding: excluding)
    }

    /// ``route(tokens:namespace:outputTokens:now:excluding:)`` with the page hashes precomputed
    /// (e.g. cached per conversation). `pageHashes` must be the chain of the prompt's whole pages.
    package mutating func route(
        pageHashes: [UInt64], promptTokens: Int, outputTokens: Int, now: RouterInstant, excluding: Set<WorkerID> = []
    ) -> RouteDecision? {
        index.expirePending(now: now)
        let matches = index.match(pageHashes: pageHashes, now: now)
        var candidates: [DispatchCandidate] = []
        // NOTE: workers awaiting a snapshot stay candidates; they get whatever credit their
        // (possibly stale) entries give, which the next snapshot corrects.
        for worker in registry.routableWorkers where !excluding.contains(worker) {
            guard let load = registry.load(of: worker) else { continue }
            candidates.append(DispatchCandidate(load: load, matchedPages: matches[worker] ?? 0))
        }
        let request = DispatchRequest(promptTokens: promptTokens, outputTokens: outputTokens, pageSize: hasher.pageSize)
        guard let choice = dispatcher.choose(request, from: candidates) else { return nil }
        let matched = candidates[choice.candidateIndex].matchedPages
        let uncached = max(promptTokens - matched * hasher.pageSize, 0)
        let pages = (uncached + outputTokens + hasher.pageSize - 1) / hasher.pageSize
        guard let reservation = registry.reserve(worker: choice.worker, prefillTokens: uncached, pages: pages) else { return nil }
        let lease = index.addPending(worker: choice.worker, pageHashes: pageHashes, expiry: now.advanced(by: pendingTTL))
        if let first = pageHashes.first {
            _ = audits[choice.worker]?.dispatched(pageHashes: pageHashes, pageZeroHeld: index.holds(choice.worker, first))
        }
        return RouteDecision(
            worker: choice.worker, matchedPages: matched, predictedTTFTSeconds: choice.predictedTTFTSeconds,
            reservation: reservation, pendingLease: lease)
    }

    /// The request's prefill finished (first token): its prompt stops counting as queued work.
    package mutating func prefillCompleted(_ decision: RouteDecision) { registry.prefillCompleted(decision.reservation) }

    /// Releases the decision's load. The pending entry is left to its `stored` event or TTL,
    /// since the worker is probably caching those pages now. Returns false on a double finish.
    @discardableResult
    package mutating func finish(_ decision: RouteDecision) -> Bool { registry.release(decision.reservation) }

    private func actions(_ action: IndexAction) -> [RouterAction] {
        if case .requestSnapshot(let worker, let reason) = action { return [.requestSnapshot(worker, reason)] }
        return []
    }
}
