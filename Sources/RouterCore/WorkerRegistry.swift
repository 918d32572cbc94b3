// RadixServe: known workers, their liveness and the router's load accounting.

import ServingTypes

/// A handle for load reserved at decision time. Release it exactly once on every exit path
/// (finished, failed, cancelled, retried elsewhere) with ``WorkerRegistry/release(_:)``.
package struct LoadReservation: Hashable, Sendable {
    /// Unique within one registry.
    package let id: UInt64
    /// The worker the load was reserved on.
    package let worker: WorkerID
}

/// The router's view of its workers: membership, heartbeats, reported load and the counters
/// the router moves itself. Pure state (the clock is passed in); not thread-safe.
///
/// Liveness: a worker is routable after ``add(_:incarnation:totalPages:now:)`` until it misses
/// `missedHeartbeatLimit` heartbeat intervals (``sweep(now:)`` reports it once), and routable
/// again on its next heartbeat. Removal forgets it; its outstanding reservations can still be
/// released (a no-op).
package struct WorkerRegistry: Sendable {
    struct Record: Sendable {
        var incarnation: UInt64
        var lastHeartbeat: RouterInstant
        /// Alive: heartbeats arrive (see ``sweep(now:)``).
        var isAlive = true
        /// Shutting down: finishes its requests but takes no new ones (see ``markDraining(_:)``).
        var isDraining = false
        /// Alive and not draining: new requests may go here.
        var takesRequests: Bool { isAlive && !isDraining }
        var report = LoadReport()
        var prefillTokensPerSecond: Double
        /// False until a report or an observation gave this worker a speed of its own.
        var isSpeedMeasured = false
        var inFlightCount = 0
        var reservedPrefillTokens = 0
        var reservedPages = 0
        /// This router's requests that finished on the worker since its last report.
        var finishedSinceReport = 0
        /// Prompt tokens of this router's requests whose prefill completed since the last report.
        var prefilledSinceReport = 0
    }

    struct Outstanding: Sendable {
        var prefillTokens: Int
        var pages: Int
    }

    /// Expected time between heartbeats.
    package var heartbeatInterval: Duration
    /// Intervals a worker may miss before it becomes unroutable.
    package var missedHeartbeatLimit: Int
    /// Prefill speed assumed before any observation (tokens per second).
    package var defaultPrefillTokensPerSecond: Double
    /// Weight of a new observation in the prefill-speed EWMA, in (0, 1].
    package var prefillSpeedSmoothing: Double

    private(set) var records: [WorkerID: Record] = [:]
    private var outstanding: [UInt64: (worker: WorkerID, load: Outstanding)] = [:]
    private var nextReservation: UInt64 = 1

    /// Creates an empty registry.
    package init(
        heartbeatInterval: Duration = .milliseconds(100), missedHeartbeatLimit: Int = 3,
        defaultPrefillTokensPerSecond: Double = 2_000, prefillSpeedSmoothing: Double = 0.2
    ) {
        precondition(missedHeartbeatLimit >= 1 && defaultPrefillTokensPerSecond > 0)
        precondition(prefillSpeedSmoothing > 0 && prefillSpeedSmoothing <= 1)
        self.heartbeatInterval = heartbeatInterval
        self.missedHeartbeatLimit = missedHeartbeatLimit
        self.defaultPrefillTokensPerSecond = defaultPrefillTokensPerSecond
        self.prefillSpeedSmoothing = prefillSpeedSmoothing
    }

    /// All known workers, sorted.
    package var workerIDs: [WorkerID] { records.keys.sorted() }

    /// Routable workers, sorted by id (the order round-robin follows).
    package var routableWorkers: [WorkerID] { records.filter(\.value.takesRequests).keys.sorted() }

    /// Whether `worker` is known (routable or not).
    package func contains(_ worker: WorkerID) -> Bool { records[worker] != nil }

    /// Whether `worker` is known, alive and not draining.
    package func isRoutable(_ worker: WorkerID) -> Bool { records[worker]?.takesRequests ?? false }

    /// Whether `worker` is known and its heartbeats arrive (draining or not).
    package func isAlive(_ worker: WorkerID) -> Bool { records[worker]?.isAlive ?? false }

    /// Whether `worker` is known and draining.
    package func isDraining(_ worker: WorkerID) -> Bool { records[worker]?.isDraining ?? false }

    /// Stops routing to `worker` for good (it is shutting down); its heartbeats keep it alive and
    /// its reservations are released as its requests finish. Returns whether it was known.
    @discardableResult
    package mutating func markDraining(_ worker: WorkerID) -> Bool {
        guard records[worker] != nil else { return false }
        records[worker]?.isDraining = true
        return true
    }

    /// Adds a worker that just said hello. Re-adding a known worker (a restart) resets its report
    /// and liveness but keeps the router's counters, whose reservations are still outstanding.
    /// `totalPages` (from the handshake) seeds the free-page figure until the first report.
    package mutating func add(_ worker: WorkerID, incarnation: UInt64, totalPages: Int = 0, now: RouterInstant) {
        var record = Record(incarnation: incarnation, lastHeartbeat: now, prefillTokensPerSecond: defaultPrefillTokensPerSecond)
        record.report.freePages = totalPages
        if let old = records[worker] {
            record.inFlightCount = old.inFlightCount
            record.reservedPrefillTokens = old.reservedPrefillTokens
            record.reservedPages = old.reservedPages
        }
        records[worker] = record
    }

    /// Forgets `worker` and its outstanding reservations (releasing them later returns false).
    /// Returns whether it was known. O(outstanding reservations).
    @discardableResult
    package mutating func remove(_ worker: WorkerID) -> Bool {
        outstanding = outstanding.filter { $0.value.worker != worker }
        return records.removeValue(forKey: worker) != nil
    }

    /// Records a heartbeat (any batch counts) and, if given, the worker's load report. A
    /// reported prefill speed feeds the EWMA. Returns whether the worker became routable again.
    @discardableResult
    package mutating func heartbeat(_ worker: WorkerID, now: RouterInstant, report: LoadReport? = nil) -> Bool {
        guard var record = records[worker] else { return false }
        record.lastHeartbeat = max(record.lastHeartbeat, now)
        let revived = !record.isAlive
        record.isAlive = true
        if let report {
            record.report = report
            record.finishedSinceReport = 0
            record.prefilledSinceReport = 0
            if report.prefillTokensPerSecond > 0 { record.blendSpeed(report.prefillTokensPerSecond, prefillSpeedSmoothing) }
        }
        records[worker] = record
        return revived
    }

    /// Marks workers whose last heartbeat is older than `missedHeartbeatLimit` intervals as
    /// unroutable; returns those that changed (each loss is reported once).
    package mutating func sweep(now: RouterInstant) -> [WorkerID] {
        let limit = heartbeatInterval * missedHeartbeatLimit
        var lost: [WorkerID] = []
        for (worker, record) in records where record.isAlive && record.lastHeartbeat.advanced(by: limit) < now {
            records[worker]?.isAlive = false
            lost.append(worker)
        }
        return lost.sorted()
    }

    /// Feeds one measured prefill (`tokens` computed in `seconds`) into the worker's speed EWMA.
    package mutating func observePrefill(_ worker: WorkerID, tokens: Int, seconds: Double) {
        guard tokens > 0, seconds > 0 else { return }
        records[worker]?.blendSpeed(Double(tokens) / seconds, prefillSpeedSmoothing)
    }

    /// The load view of `worker`, or nil if unknown.
    package func load(of worker: WorkerID) -> WorkerLoad? {
        guard let record = records[worker] else { return nil }
        // A report lags: take out what this router saw finish since it was sent, so a worker that
        // just drained does not look busy until its next heartbeat.
        var report = record.report
        report.runningCount = max(report.runningCount - record.finishedSinceReport, 0)
        report.waitingPrefillTokens = max(report.waitingPrefillTokens - record.prefilledSinceReport, 0)
        return WorkerLoad(
            worker: worker, report: report, inFlightCount: record.inFlightCount,
            reservedPrefillTokens: record.reservedPrefillTokens, reservedPages: record.reservedPages,
            prefillTokensPerSecond: record.isSpeedMeasured ? record.prefillTokensPerSecond : unmeasuredSpeed)
    }

    /// The speed assumed for a worker not measured yet: the mean of the measured workers (they
    /// serve the same model, usually on the same hardware), else the configured default. An
    /// optimistic guess would pull cached-prefix requests away from measured workers.
    private var unmeasuredSpeed: Double {
        let measured = records.values.filter(\.isSpeedMeasured).map(\.prefillTokensPerSecond)
        return measured.isEmpty ? defaultPrefillTokensPerSecond : measured.reduce(0, +) / Double(measured.count)
    }

    // MARK: - Reservations

    /// Moves the router's counters for a request dispatched to `worker` (before the request is
    /// sent, so concurrent decisions see it). Returns nil for unknown workers.
    package mutating func reserve(worker: WorkerID, prefillTokens: Int, pages: Int) -> LoadReservation? {
        guard records[worker] != nil else { return nil }
        let id = nextReservation
        nextReservation += 1
        records[worker]!.inFlightCount += 1
        records[worker]!.reservedPrefillTokens += prefillTokens
        records[worker]!.reservedPages += pages
        outstanding[id] = (worker, Outstanding(prefillTokens: prefillTokens, pages: pages))
        return LoadReservation(id: id, worker: worker)
    }

    /// The request finished its prefill: its prompt no longer queues ahead of others.
    /// Idempotent; later calls and calls after release do nothing.
    package mutating func prefillCompleted(_ reservation: LoadReservation) {
        guard var entry = outstanding[reservation.id], entry.load.prefillTokens > 0 else { return }
        records[entry.worker]?.reservedPrefillTokens -= entry.load.prefillTokens
        records[entry.worker]?.prefilledSinceReport += entry.load.prefillTokens
        entry.load.prefillTokens = 0
        outstanding[reservation.id] = entry
    }

    /// Returns the reserved load. Returns false (and changes nothing) for a reservation already
    /// released or not from this registry, so a double release on a racing exit path is harmless.
    @discardableResult
    package mutating func release(_ reservation: LoadReservation) -> Bool {
        guard let entry = outstanding.removeValue(forKey: reservation.id) else { return false }
        if var record = records[entry.worker] {
            record.inFlightCount -= 1
            record.reservedPrefillTokens -= entry.load.prefillTokens
            record.reservedPages -= entry.load.pages
            record.prefilledSinceReport += entry.load.prefillTokens
            record.finishedSinceReport += 1
            assert(record.inFlightCount >= 0 && record.reservedPrefillTokens >= 0 && record.reservedPages >= 0)
            records[entry.worker] = record
        }
        return true
    }

    /// Outstanding reservations (all workers).
    package var outstandingCount: Int { outstanding.count }
}

extension WorkerRegistry.Record {
    mutating func blendSpeed(_ observed: Double, _ weight: Double) {
        // The first measurement replaces the default outright.
        prefillTokensPerSecond = isSpeedMeasured ? weight * observed + (1 - weight) * prefillTokensPerSecond : observed
        isSpeedMeasured = true
    }
}
