// RadixServe: operator-facing views and actions (worker list, add, remove, flush, metrics).

import Foundation
import Logging
import RouterCore
import ServingTypes
import Synchronization
import WireProtocol

extension RouterCoordinator {
    /// Every registered worker, by id.
    package func workers() -> [WorkerStatus] {
        core.withLock { core in
            core.workers.keys.sorted().map { worker in
                let entry = core.workers[worker]!
                let load = core.state.registry.load(of: worker)
                let report = entry.lastReport
                return WorkerStatus(
                    id: worker.rawValue, endpoint: entry.endpoint, isRoutable: core.state.registry.isRoutable(worker),
                    isDraining: core.state.registry.isDraining(worker),
                    incarnation: entry.registration.incarnation, model: entry.registration.modelID,
                    tensorParallelSize: Int(entry.registration.tensorParallelSize),
                    maxModelLength: Int(entry.registration.maxModelLength),
                    running: report?.runningCount ?? 0, waiting: report?.waitingCount ?? 0,
                    freePages: report?.freePages ?? Int(entry.registration.capacityPages),
                    evictablePages: report?.evictablePages ?? 0, cachedPages: report?.cachedPages ?? 0,
                    totalPages: report?.totalPages ?? Int(entry.registration.capacityPages),
                    prefillTokensPerSecond: load?.prefillTokensPerSecond ?? 0,
                    decodeTokensPerSecond: report?.decodeTokensPerSecond ?? 0, inFlight: load?.inFlightCount ?? 0,
                    cacheEvents: core.state.cacheEventTrust(of: worker).rawValue,
                    isDeterministic: entry.registration.features.contains(.deterministic))
            }
        }
    }

    /// Whether requests are served in deterministic mode: at least one worker is registered, and
    /// every registered worker declared it (`register.features`).
    package var isDeterministic: Bool {
        core.withLock { core in
            !core.workers.isEmpty && core.workers.values.allSatisfy { $0.registration.features.contains(.deterministic) }
        }
    }

    /// Workers that can take requests now.
    package var routableWorkerCount: Int { core.withLock { $0.state.registry.routableWorkers.count } }

    /// Connects to a worker listening on `endpoint` (`worker --listen`) and waits up to
    /// `timeout` for it to register. Returns its status.
    /// - Throws: ``RouterServiceError`` naming the endpoint when the connection or the
    ///   registration fails.
    package func connectWorker(endpoint: String, timeout: Duration = .seconds(10)) async throws -> WorkerStatus {
        let routingID = WorkerLink.connectionRoutingID()
        let isNew = core.withLock { core -> Bool in
            guard core.connections[endpoint] == nil else { return false }
            core.connections[endpoint] = WorkerConnection(routingID: routingID)
            return true
        }
        guard isNew else { throw RouterServiceError("the router is already connected to \(endpoint)") }
        let failure: String? = await withCheckedContinuation { continuation in
            link.post(.connect(endpoint: endpoint, routingID: routingID, completion: { continuation.resume(returning: $0) }))
        }
        if let failure {
            core.withLock { _ = $0.connections.removeValue(forKey: endpoint) }
            throw RouterServiceError(failure)
        }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var registered: WorkerID?
        do {
            while ContinuousClock.now < deadline, registered == nil {
                try await Task.sleep(for: .milliseconds(20))
                registered = core.withLock { core in
                    core.connections[endpoint]?.worker.flatMap { core.workers[$0] != nil ? $0 : nil }
                }
            }
        } catch {
            // Cancelled (the client went away): keep a worker that made it, else drop the connection.
            if !abandonConnection(to: endpoint, routingID: routingID) { return try status(of: endpoint) }
            throw error
        }
        if registered != nil || !abandonConnection(to: endpoint, routingID: routingID) { return try status(of: endpoint) }
        throw RouterServiceError("no worker registered from \(endpoint) within \(timeout) (is `radixserve worker --listen \(endpoint)` running?)")
    }

    /// Drops the connection made to `endpoint` unless a worker registered over it meanwhile (checked
    /// under the same lock, so a registration cannot slip in between). Returns whether it dropped it.
    private func abandonConnection(to endpoint: String, routingID: [UInt8]) -> Bool {
        let dropped = core.withLock { core -> Bool in
            guard let connection = core.connections[endpoint], connection.routingID == routingID else { return false }
            if let worker = connection.worker, core.workers[worker] != nil { return false }
            core.connections[endpoint] = nil
            return true
        }
        if dropped { link.post(.disconnect(endpoint: endpoint)) }
        return dropped
    }

    /// The status of the worker registered over the connection to `endpoint`.
    private func status(of endpoint: String) throws -> WorkerStatus {
        let worker = core.withLock { $0.connections[endpoint]?.worker }
        guard let worker, let status = workers().first(where: { $0.id == worker.rawValue }) else {
            throw RouterServiceError("the worker at \(endpoint) went away right after registering")
        }
        return status
    }

    /// Removes a worker: it stops receiving requests, its in-flight requests move to other
    /// workers, and it is told it was removed (a worker then exits). Returns false if unknown.
    package func removeWorker(_ id: UInt32) -> Bool {
        core.withLock { core in
            let worker = WorkerID(id)
            guard let entry = core.workers[worker] else { return false }
            core.removedIncarnations[worker] = entry.registration.incarnation
            workerGone(worker, reason: "\(worker) was removed", in: &core)
            post(.refused(reason: "removed from the router by the operator"), toRoutingID: entry.routingID)
            if let endpoint = entry.endpoint, core.connections[endpoint]?.routingID == entry.routingID {
                core.connections[endpoint] = nil
                link.post(.disconnect(endpoint: endpoint))
            }
            config.logger.info("removed \(worker)", metadata: worker.logMetadata)
            return true
        }
    }

    /// Asks every worker to drop its prefix cache (each reports `cleared` when done).
    /// Returns how many workers were asked.
    package func flushCache() -> Int {
        core.withLock { core in
            for worker in core.workers.keys { post(.flushCache, to: worker, in: core) }
            return core.workers.count
        }
    }

    /// The Prometheus exposition text.
    package func metricsText() -> String {
        core.withLock { core in
            var gauges = RouterGauges()
            gauges.routableWorkers = core.state.registry.routableWorkers.count
            gauges.inFlightRequests = core.flights.count
            var usedPages = 0
            var totalPages = 0
            for (worker, entry) in core.workers {
                gauges.inFlightByWorker[worker.rawValue] = core.state.registry.load(of: worker)?.inFlightCount ?? 0
                gauges.untrustedCacheEventsByWorker[worker.rawValue] = core.state.cacheEventTrust(of: worker) == .untrusted
                if let report = entry.lastReport {
                    gauges.waitingRequests += report.waitingCount
                    usedPages += report.totalPages - report.freePages - report.evictablePages
                    totalPages += report.totalPages
                }
            }
            gauges.tokenUsage = totalPages == 0 ? 0 : Double(max(usedPages, 0)) / Double(totalPages)
            return core.metrics.render(gauges: gauges)
        }
    }

    /// Prompt tokens served from cache over all prompt tokens so far.
    package var cacheHitRate: Double { core.withLock { $0.metrics.cacheHitRate } }
}
