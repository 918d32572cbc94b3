// RadixServe: what the router does with each message a worker sends.

import CoreMetrics
import Logging
import ProcessLifecycle
import RouterCore
import ServingTypes
import Synchronization
import WireProtocol

extension RouterCoordinator: WorkerLinkDelegate {
    func link(received frames: [[UInt8]]) {
        guard frames.count == 2 else {
            config.logger.warning("dropped a \(frames.count)-frame message from a worker (expected routing id + 1 frame)")
            return
        }
        let routingID = frames[0]
        let message: WorkerToRouter
        do {
            message = try WorkerToRouter.decode(frames[1], maxFrameBytes: config.maxFrameBytes)
        } catch {
            let sender = core.withLock { describe(routingID, in: $0) }
            config.logger.warning("dropped a malformed message from \(sender): \(error)")
            return
        }
        core.withLock { core in handle(message, from: routingID, in: &core) }
        switch message {
        case .register, .leaving: membership.notify()
        default: break
        }
    }

    func link(failedToSend frame: [UInt8], to routingID: [UInt8]) {
        // A lost `submit` would leave its request waiting forever: move it now.
        guard case .submit(let submit)? = try? RouterToWorker.decode(frame, maxFrameBytes: config.maxFrameBytes) else { return }
        core.withLock { core in
            guard let worker = core.flights[submit.requestID]?.lifecycle.worker, core.workers[worker]?.routingID == routingID
            else { return }
            update(submit.requestID, in: &core) { $0.sendFailed(to: worker) }
        }
    }

    func linkTick() {
        core.withLock { core in
            for action in core.state.tick(now: now) { perform(action, in: &core) }
        }
        membership.notify()
    }

    private func describe(_ routingID: [UInt8], in core: CoordinatorCore) -> String {
        if let raw = WorkerLink.workerID(routingID: routingID) { return "worker \(raw)" }
        if let endpoint = core.connection(routingID: routingID)?.endpoint { return "the worker listening at \(endpoint)" }
        return "a peer with routing id \(routingID)"
    }

    private func handle(_ message: WorkerToRouter, from routingID: [UInt8], in core: inout CoordinatorCore) {
        if case .register(let registration) = message { return register(registration, from: routingID, in: &core) }
        guard let worker = core.sender(of: routingID), let entry = core.workers[worker] else {
            return stranger(message, from: routingID, in: &core)
        }
        let incarnation = entry.registration.incarnation
        switch message {
        case .register:
            break
        case .heartbeat(let heartbeat):
            guard heartbeat.incarnation == incarnation else { return }
            core.workers[worker]?.lastReport = heartbeat.load
            let batch = WorkerEventBatch(worker: worker, incarnation: incarnation, sequence: heartbeat.sequence, events: [])
            for action in core.state.apply(batch, report: heartbeat.load, now: now) { perform(action, in: &core) }
        case .kvEvents(let batch):
            guard batch.incarnation == incarnation else { return }
            let events = WorkerEventBatch(
                worker: worker, incarnation: incarnation, sequence: batch.sequence, events: batch.events)
            for action in core.state.apply(events, now: now) { perform(action, in: &core) }
        case .snapshot(let snapshot):
            guard snapshot.incarnation == incarnation else { return }
            let converted = WorkerSnapshot(
                worker: worker, incarnation: incarnation, sequence: snapshot.sequence, chains: snapshot.chains)
            for action in core.state.applySnapshot(converted, now: now) { perform(action, in: &core) }
        case .tokens(let outputs):
            for output in outputs { update(output.requestID, in: &core) { $0.tokensArrived(output, from: worker) } }
        case .finished(let finish):
            if core.flights[finish.requestID]?.lifecycle.worker == worker, finish.reason.errorMessage == nil {
                core.state.requestCompleted(on: worker, promptTokens: Int(finish.promptTokens))
            }
            update(finish.requestID, in: &core) { $0.workerFinished(finish, from: worker) }
        case .failed(let requestID, let code, let message):
            update(requestID, in: &core) { $0.workerFailed(code: code, message: message, from: worker) }
        case .draining(let deadlineMilliseconds):
            guard !core.state.registry.isDraining(worker) else { return }
            let running = core.flights.values.filter { $0.lifecycle.worker == worker }.count
            config.logger.info(
                "\(worker) is shutting down: no new requests; it finishes its \(running) running within \(deadlineMilliseconds) ms",
                metadata: worker.logMetadata)
            core.state.markDraining(worker)
        case .leaving:
            config.logger.info("\(worker) left", metadata: worker.logMetadata)
            workerGone(worker, reason: "\(worker) left", in: &core)
        }
    }

    // MARK: - Membership

    /// A message from a sender that has not registered. A worker that was serving a previous
    /// router process is told to register again (at most once per second), and the requests it
    /// still runs for that router, which have no client here, are aborted.
    private func stranger(_ message: WorkerToRouter, from routingID: [UInt8], in core: inout CoordinatorCore) {
        let claimed = WorkerLink.workerID(routingID: routingID).map(WorkerID.init)
        guard claimed != nil || core.connection(routingID: routingID) != nil else {
            if core.loggedStrangers.insert(routingID).inserted {
                config.logger.notice("ignoring messages from \(describe(routingID, in: core)), which is not a worker's routing id")
            }
            return
        }
        // A worker the operator removed stays out until it restarts (a new incarnation).
        if let claimed, core.removedIncarnations[claimed] != nil { return }
        switch message {
        case .tokens(let outputs):
            for requestID in Set(outputs.map(\.requestID)) { post(.abort(requestID: requestID), toRoutingID: routingID) }
        case .leaving, .draining:
            return  // it is going away: nothing to re-register
        case .register, .finished, .failed, .kvEvents, .snapshot, .heartbeat:
            break
        }
        let instant = now
        if let last = core.registerAgainSentAt[routingID], instant < last.advanced(by: .seconds(1)) { return }
        core.registerAgainSentAt[routingID] = instant
        config.logger.notice("\(describe(routingID, in: core)) is not registered here; asking it to register again")
        post(.registerAgain, toRoutingID: routingID)
    }

    /// A worker registers: over its own routing id (it connected to the router), or over a
    /// connection the router made to a listening worker, whose id ties it to that endpoint.
    private func register(_ registration: WorkerRegistration, from routingID: [UInt8], in core: inout CoordinatorCore) {
        let connection = core.connection(routingID: routingID)
        let worker = WorkerID(registration.workerID)
        let refusal: String?
        if connection == nil, WorkerLink.workerID(routingID: routingID) != registration.workerID {
            refusal = "worker \(registration.workerID) refused: its routing id \(routingID) does not encode its worker id"
        } else if core.removedIncarnations[worker] == registration.incarnation {
            refusal = "worker \(registration.workerID) was removed from the router by the operator; restart it to register again"
        } else if let holder = core.workers[worker], holder.routingID != routingID, core.state.registry.isAlive(worker) {
            // Two live processes with one id would displace each other for ever.
            let place = holder.endpoint.map { " listening at \($0)" } ?? ""
            refusal = "worker id \(registration.workerID) is in use by another live worker\(place); give each worker its own --worker-id"
        } else {
            refusal = registration.incompatibility(
                modelFingerprint: config.modelFingerprint, pageSize: UInt32(config.pageSize), hashSeed: config.hashSeed)
        }
        if let refusal {
            config.logger.warning("\(refusal)", metadata: worker.logMetadata)
            post(.refused(reason: refusal), toRoutingID: routingID)
            return
        }
        let heartbeatMilliseconds = UInt32(clamping: Int(config.heartbeatInterval / .milliseconds(1)))
        if let known = core.workers[worker], known.registration.incarnation == registration.incarnation,
            known.routingID == routingID
        {
            // A retried `register` whose answer crossed it: answer again.
            post(.registered(workerID: registration.workerID, heartbeatMilliseconds: heartbeatMilliseconds), to: worker, in: core)
            return
        }
        if let connection, let previous = connection.connection.worker, previous != worker, core.workers[previous] != nil {
            config.logger.info("\(worker) now listens at \(connection.endpoint) in place of \(previous)")
            workerGone(previous, reason: "\(previous) was replaced at \(connection.endpoint)", in: &core)
        }
        if let known = core.workers[worker] {
            config.logger.notice("\(worker) restarted (incarnation \(known.registration.incarnation) → \(registration.incarnation))")
            if let old = known.endpoint, old != connection?.endpoint { core.connections[old]?.worker = nil }
            workerGone(worker, reason: "\(worker) restarted", in: &core)
        }
        if let endpoint = connection?.endpoint { core.connections[endpoint]?.worker = worker }
        core.workers[worker] = WorkerEntry(registration: registration, endpoint: connection?.endpoint, routingID: routingID)
        core.registerAgainSentAt[routingID] = nil
        core.removedIncarnations[worker] = nil
        let actions = core.state.addWorker(
            worker, incarnation: registration.incarnation, totalPages: Int(registration.capacityPages), lastSequence: 0, now: now)
        for action in actions { perform(action, in: &core) }
        post(.registered(workerID: registration.workerID, heartbeatMilliseconds: heartbeatMilliseconds), to: worker, in: core)
        let place = connection.map { " listening at \($0.endpoint)" } ?? ""
        config.logger.info(
            "registered \(worker)\(place) (model \(registration.modelID), tp \(registration.tensorParallelSize), \(registration.capacityPages) KV pages)",
            metadata: worker.logMetadata)
    }

    func perform(_ action: RouterAction, in core: inout CoordinatorCore) {
        switch action {
        case .requestSnapshot(let worker, let reason):
            config.logger.info("resynchronising \(worker) from a snapshot (\(reason))", metadata: worker.logMetadata)
            post(.snapshotRequest, to: worker, in: core)
        case .workerLost(let worker):
            config.logger.warning("\(worker) missed \(config.missedHeartbeatLimit) heartbeats; moving its requests elsewhere", metadata: worker.logMetadata)
            moveFlights(off: worker, reason: "\(worker) stopped responding", in: &core)
        case .cacheEventsUntrusted(let worker, let completedPrompts, let unmatchedStoredPages):
            config.logger.error(
                """
                \(worker)'s cache events do not match the router's page hashes: none of the \(unmatchedStoredPages) pages it \
                reported as stored belongs to the \(completedPrompts) prompts it served, so its page-hash chain differs from \
                the router's (page size \(config.pageSize), hash seed \(config.hashSeed); docs/WIRE_PROTOCOL.md, \
                "Page hashes"). Routing it as cache-unaware from now on.
                """, metadata: worker.logMetadata)
        }
    }

    /// Forgets a worker (removed, left, restarted or replaced) and moves its requests elsewhere.
    func workerGone(_ worker: WorkerID, reason: String, in core: inout CoordinatorCore) {
        core.workers[worker] = nil
        core.state.removeWorker(worker)
        moveFlights(off: worker, reason: reason, in: &core)
    }
}
