// RadixServe: the worker's socket thread (register, relay commands, send engine output).

import Engine
import Foundation
import Logging
import Scheduling
import ServingTypes
import Transport
import WireProtocol

/// The poll loop of one ``WorkerEndpoint``.
///
/// Not thread-safe: created by ``WorkerEndpoint/start()`` and then used only by the socket
/// thread, which owns both sockets (the router DEALER and the wakeup PAIR's receiving end).
final class WorkerSession {
    private let config: WorkerEndpointConfig
    private let engine: EngineLoop
    private let outbox: WorkerOutbox
    private let context: ZMQContext
    /// Unretained: the endpoint joins this thread before it can be freed.
    private let endpoint: Unmanaged<WorkerEndpoint>
    private var writer = WireWriter(capacity: 4096)
    private let clock = ContinuousClock()
    /// Registration, heartbeats, drain and re-registration; this thread performs its actions.
    private var session: RouterSessionState
    /// Requests submitted by the router and not yet finished (duplicate-id check).
    private var liveRequests: Set<UInt64> = []
    /// Sequence of the last `kvEvents` batch sent (0 before the first).
    private var cacheSequence: UInt64 = 0

    init(
        config: WorkerEndpointConfig, engine: EngineLoop, outbox: WorkerOutbox, context: ZMQContext,
        endpoint: Unmanaged<WorkerEndpoint>
    ) {
        self.config = config
        self.engine = engine
        self.outbox = outbox
        self.context = context
        self.endpoint = endpoint
        session = RouterSessionState(
            workerID: config.workerID, routerDescription: config.routerEndpoint, now: clock.now,
            registrationTimeout: config.connection == .bind ? nil : config.registrationTimeout,
            registrationRetryInterval: config.registrationRetryInterval, heartbeatInterval: config.heartbeatInterval)
    }

    private var registration: WorkerRegistration {
        let scheduler = engine.schedulerConfig
        return WorkerRegistration(
            workerID: config.workerID, incarnation: config.incarnation, modelID: config.modelID,
            modelFingerprint: config.modelFingerprint, pageSize: UInt32(scheduler.pageSize), hashSeed: scheduler.hashSeed,
            tensorParallelSize: UInt32(config.tensorParallelSize), capacityPages: UInt32(scheduler.pageCount),
            maxModelLength: UInt32(clamping: scheduler.maxModelLength), features: engine.isDeterministic ? .deterministic : [])
    }

    func run() {
        let reason: String
        do {
            reason = try serve()
        } catch {
            reason = "transport failure: \(error)"
            config.logger.error("\(reason)")
        }
        outbox.close()
        endpoint.takeUnretainedValue().update(.stopped(reason: reason), keepingFinal: true)
    }

    /// The loop; returns why it ended.
    private func serve() throws -> String {
        let dealer = try ZMQSocket(.dealer, context: context)
        defer { dealer.close() }
        try dealer.setRoutingID(config.routingID)
        try dealer.setMaxMessageSize(config.maxFrameBytes)
        if let curve = config.curve { try dealer.setCurveClient(serverPublicKey: curve.serverPublicKey, keyPair: curve.keyPair) }
        switch config.connection {
        case .connect:
            try dealer.connect(config.routerEndpoint)
        case .bind:
            let bound = try dealer.bind(config.routerEndpoint)
            session.routerDescription = "a router connected to \(bound)"
            config.logger.info("listening on \(bound); waiting for a router to connect")
        }

        let wakeEndpoint = "inproc://radixserve-worker-wake-\(config.workerID)-\(config.incarnation)-\(UInt64.random(in: 0...(.max)))"
        let wakeReceiver = try ZMQSocket(.pair, context: context)
        defer { wakeReceiver.close() }
        try wakeReceiver.bind(wakeEndpoint)
        let wakeSender = try ZMQSocket(.pair, context: context)
        try wakeSender.connect(wakeEndpoint)
        outbox.install(waker: wakeSender)  // closed by outbox.close()

        let poller = ZMQPoller()
        let dealerIndex = poller.register(dealer)
        let wakeIndex = poller.register(wakeReceiver)
        while !endpoint.takeUnretainedValue().isStopping {
            let actions = session.tick(now: clock.now, drainDeadline: endpoint.takeUnretainedValue().requestedDrain)
            if let end = perform(actions, on: dealer) { return end }
            _ = try poller.poll(timeout: max(.zero, min(session.nextDue - clock.now, .milliseconds(200))))

            if poller.isReadable(at: wakeIndex) {
                while (try? wakeReceiver.receive(timeout: .zero)) != nil {}
            }
            if poller.isReadable(at: dealerIndex) {
                while let frames = try? dealer.receive(timeout: .zero) {
                    if let refusal = handle(frames, on: dealer) { return refusal }
                }
            }
            relayOutbox(on: dealer)
        }
        relayOutbox(on: dealer)
        _ = perform(session.stopping(drainDeadline: endpoint.takeUnretainedValue().requestedDrain), on: dealer)
        return "stopped"
    }

    /// Performs the session's actions in order; returns the reason when one ends the session.
    private func perform(_ actions: [RouterSessionState.Action], on dealer: ZMQSocket) -> String? {
        for action in actions {
            switch action {
            case .sendRegistration:
                sendRegistration(on: dealer)
            case .sendHeartbeat:
                send(.heartbeat(WorkerHeartbeat(
                    incarnation: config.incarnation, sequence: cacheSequence, load: engine.load.report)), on: dealer)
            case .sendDraining(let deadline):
                send(.draining(deadlineMilliseconds: UInt32(clamping: Int(deadline / .milliseconds(1)))), on: dealer)
            case .sendLeaving:
                // Best effort, without blocking on a router that is gone; the linger lets the queued
                // message leave after the socket closes (until the context terminates).
                dealer.setLingerOnClose(.milliseconds(500))
                sendWithoutWaiting(.leaving, on: dealer)
            case .reportRegistered:
                endpoint.takeUnretainedValue().update(.registered, onlyIfPending: true)
            case .end(let ending):
                let state: WorkerRegistrationState
                switch ending {
                case .timedOut: state = .timedOut
                case .refused(let reason): state = .refused(reason: reason)
                }
                endpoint.takeUnretainedValue().update(state, onlyIfPending: true)
                return ending.description
            case .log(let level, let line):
                config.logger.log(level: level, "\(line)")
            }
        }
        return nil
    }

    // MARK: - Router → worker

    /// Handles one message; returns a reason when the router refused the worker.
    private func handle(_ frames: [[UInt8]], on dealer: ZMQSocket) -> String? {
        guard frames.count == 1 else {
            config.logger.warning("dropped a \(frames.count)-frame message from the router (expected 1 frame)")
            return nil
        }
        let message: RouterToWorker
        do {
            message = try RouterToWorker.decode(frames[0], maxFrameBytes: config.maxFrameBytes)
        } catch {
            config.logger.warning("dropped a malformed message from the router: \(error)")
            // Not for a live id: that request still ends with its own `finished`.
            if let requestID = RouterToWorker.requestID(ofMalformed: frames[0]), !liveRequests.contains(requestID) {
                send(.failed(requestID: requestID, code: .malformedMessage, message: "malformed message: \(error.message)"), on: dealer)
            }
            return nil
        }
        switch message {
        case .registered(let workerID, let heartbeatMilliseconds):
            return perform(
                session.registered(as: workerID, heartbeatMilliseconds: heartbeatMilliseconds, now: clock.now), on: dealer)
        case .refused(let reason):
            return perform(session.refused(reason: reason), on: dealer)
        case .submit(let submit):
            accept(submit, on: dealer)
        case .abort(let requestID):
            engine.abort(RequestID(requestID))
        case .flushCache:
            let outbox = self.outbox
            engine.flushCache { outbox.post(.flushDone(isFlushed: $0)) }
        case .registerAgain:
            // The router restarted. The engine keeps its cache, and the router resynchronises
            // from a snapshot after the first heartbeat.
            return perform(session.registerAgain(now: clock.now), on: dealer)
        case .snapshotRequest:
            // The engine publishes pending cache events before listing, and both go through the
            // ordered outbox, so the snapshot is sent right after the last batch it includes.
            let outbox = self.outbox
            engine.snapshotCache { outbox.post(.snapshot($0)) }
        }
        return nil
    }

    private func accept(_ submit: WorkerSubmit, on dealer: ZMQSocket) {
        if let refusal = session.refusalOfSubmissions {
            return send(.failed(requestID: submit.requestID, code: .unavailable, message: refusal), on: dealer)
        }
        guard liveRequests.insert(submit.requestID).inserted else {
            return send(.failed(
                requestID: submit.requestID, code: .duplicateRequest,
                message: "request \(submit.requestID) is already running on this worker"), on: dealer)
        }
        endpoint.takeUnretainedValue().updateUnfinishedRequests(liveRequests.count)
        do {
            try engine.submit(EngineRequest(
                id: RequestID(submit.requestID), promptTokenIDs: submit.tokenIDs, params: submit.params,
                resumedOutputCount: Int(submit.resumedOutputCount)))
        } catch {
            liveRequests.remove(submit.requestID)
            endpoint.takeUnretainedValue().updateUnfinishedRequests(liveRequests.count)
            send(.failed(requestID: submit.requestID, code: .unavailable, message: "\(error)"), on: dealer)
        }
    }

    // MARK: - Worker → router

    /// Sends everything queued by the engine: tokens batched per drain (one engine step or
    /// more), each request's tokens before its `finished`.
    private func relayOutbox(on dealer: ZMQSocket) {
        var outputs: [TokenOutput] = []
        var positions: [UInt64: Int] = [:]
        func flushTokens() {
            guard !outputs.isEmpty else { return }
            send(.tokens(outputs), on: dealer)
            outputs.removeAll()
            positions.removeAll()
        }
        for item in outbox.drain() {
            switch item {
            case .engine(.token(let id, let tokenID, let index, let logprobs)):
                if let position = positions[id.rawValue],
                    outputs[position].logprobs.isEmpty == (logprobs == nil),
                    Int(outputs[position].firstIndex) + outputs[position].tokenIDs.count == index
                {
                    outputs[position].tokenIDs.append(tokenID)
                    if let logprobs { outputs[position].logprobs.append(logprobs) }
                } else {
                    positions[id.rawValue] = outputs.count
                    outputs.append(TokenOutput(
                        requestID: id.rawValue, firstIndex: UInt32(clamping: index), tokenIDs: [tokenID],
                        logprobs: logprobs.map { [$0] } ?? []))
                }
            case .engine(.finished(let id, let reason, let usage)):
                flushTokens()
                liveRequests.remove(id.rawValue)
                endpoint.takeUnretainedValue().updateUnfinishedRequests(liveRequests.count)
                send(.finished(RequestFinish(requestID: id, reason: reason, usage: usage)), on: dealer)
            case .cacheEvents(let events):
                flushTokens()
                cacheSequence += 1
                send(.kvEvents(KVEventBatch(
                    incarnation: config.incarnation, sequence: cacheSequence, events: events)), on: dealer)
            case .snapshot(let chains?):
                flushTokens()
                send(.snapshot(CacheSnapshot(
                    incarnation: config.incarnation, sequence: cacheSequence, chains: chains)), on: dealer)
            case .snapshot(nil):
                config.logger.warning("cannot answer a snapshot request: the engine is shut down")
            case .flushDone(let isFlushed):
                if !isFlushed { config.logger.info("cache flush was partial: prefixes held by running requests stay cached") }
            case .wake:
                break
            }
        }
        flushTokens()
    }

    /// Sends `register`. A listening worker has no peer until a router connects, and a send
    /// would block until then, so it tries without waiting and retries on the next interval.
    private func sendRegistration(on dealer: ZMQSocket) {
        guard config.connection == .bind else { return send(.register(registration), on: dealer) }
        sendWithoutWaiting(.register(registration), on: dealer)
    }

    /// Sends `message` if the socket can take it now, else drops it.
    private func sendWithoutWaiting(_ message: WorkerToRouter, on dealer: ZMQSocket) {
        message.encode(into: &writer)
        _ = try? dealer.send(writer.bytes, timeout: .zero)
    }

    private func send(_ message: WorkerToRouter, on dealer: ZMQSocket) {
        message.encode(into: &writer)
        do {
            try dealer.send(writer.bytes, timeout: config.sendTimeout)
        } catch {
            let kind = UInt16(writer.bytes[6]) | UInt16(writer.bytes[7]) << 8
            config.logger.warning("dropped a message of kind 0x\(String(kind, radix: 16)) to the router: \(error)")
        }
    }
}
