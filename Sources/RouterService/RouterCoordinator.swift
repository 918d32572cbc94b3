// RadixServe: the router core — worker membership, dispatch, and every in-flight request.

import CoreMetrics
import Foundation
import PageHashing
import ProcessLifecycle
import RouterCore
import ServingTypes
import Synchronization
import Transport
import WireProtocol

/// Owns the router's decision state (``RouterCore/RouterState``), its workers and its
/// in-flight requests, and talks to workers through a ``WorkerLink``.
///
/// HTTP handlers call ``submit(_:)`` and read the returned stream; the socket thread delivers
/// worker messages and periodic ticks. Every request leaves through exactly one finish or
/// error, and its load reservation is released on every path (finish, failure, retry, worker
/// loss, cancellation).
///
/// Thread-safe: all state sits in one `Mutex`; stream continuations are yielded and link
/// commands posted while it is held (both are non-blocking), so a request's updates keep
/// their order.
package final class RouterCoordinator: Sendable {
    package let config: RouterServiceConfig
    let link: WorkerLink
    let core: Mutex<CoordinatorCore>
    private let origin = ContinuousClock.now
    /// Notified when a worker registers or leaves, and on every tick of the worker link (when a
    /// silent worker may have become unroutable): wait on it for ``routableWorkerCount``.
    package let membership = ChangeSignal()

    /// Creates a stopped coordinator; ``start()`` binds the worker socket.
    package init(config: RouterServiceConfig, context: ZMQContext) {
        self.config = config
        link = WorkerLink(
            context: context, bindEndpoint: config.workerEndpoint, maxFrameBytes: config.maxFrameBytes,
            tickInterval: config.heartbeatInterval / 2, curveSecretKey: config.curveSecretKey,
            authorizedKeys: config.authorizedWorkerKeys, logger: config.logger)
        var registry = WorkerRegistry(heartbeatInterval: config.heartbeatInterval, missedHeartbeatLimit: config.missedHeartbeatLimit)
        registry.defaultPrefillTokensPerSecond = 2_000
        let state = RouterState(
            hasher: PageHasher(seed: config.hashSeed, pageSize: config.pageSize),
            dispatcher: Dispatcher(policy: config.policy, costModel: config.costModel, seed: config.seed), registry: registry)
        core = Mutex(CoordinatorCore(state: state))
    }

    /// Binds the worker endpoint and starts the socket thread.
    /// - Throws: ``RouterServiceError`` when the endpoint cannot be bound.
    package func start() throws {
        try link.start(delegate: self)
    }

    /// The endpoint workers connect to, with the port resolved.
    package var boundWorkerEndpoint: String { link.boundEndpoint }

    /// Fails every in-flight request and stops the socket thread.
    package func shutdown() {
        core.withLock { core in
            for id in core.flights.keys.sorted() { update(id, in: &core) { $0.shutdown() } }
        }
        link.stop()
    }

    var now: RouterInstant {
        let (seconds, attoseconds) = (ContinuousClock.now - origin).components
        return RouterInstant(nanoseconds: seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    // MARK: - Requests

    /// Chooses a worker, reserves its load and sends the request. The stream yields tokens and
    /// then one finish; it throws ``RoutedRequestError`` when every attempt failed. Cancelling
    /// the consuming task (or dropping the stream) aborts the request on its worker.
    /// - Throws: ``RoutedRequestError`` when no worker can take it now.
    package func submit(_ request: RoutedRequest) throws(RoutedRequestError) -> RoutedRequestHandle {
        try submit([request])[0]
    }

    /// Routes several requests together, as for the `n` samples of one prompt: the first goes where
    /// routing sends it, the others to the same worker while it can take them (its cache will hold
    /// the prompt; the worker computes it once), else where routing sends each. All are admitted
    /// or none.
    /// - Throws: ``RoutedRequestError/overloaded(limit:)`` when they do not all fit under the
    ///   in-flight limit, ``RoutedRequestError/noWorkers`` when one cannot be routed.
    package func submit(_ requests: [RoutedRequest]) throws(RoutedRequestError) -> [RoutedRequestHandle] {
        precondition(!requests.isEmpty, "submit needs at least one request")
        let streams = requests.map { _ in AsyncThrowingStream<RoutedUpdate, any Error>.makeStream() }
        let result: Result<[UInt64], RoutedRequestError> = core.withLock { core in
            guard core.flights.count + requests.count <= config.maxInFlightRequests else {
                return .failure(.overloaded(limit: config.maxInFlightRequests))
            }
            var decisions: [RouteDecision] = []
            for request in requests {
                var decision: RouteDecision?
                if let first = decisions.first?.worker {
                    let others = Set(core.workers.keys).subtracting([first])
                    decision = route(request.tokenIDs, request.params, excluding: others, in: &core)
                }
                guard let routed = decision ?? route(request.tokenIDs, request.params, excluding: [], in: &core) else {
                    for decision in decisions { core.state.finish(decision) }
                    return .failure(.noWorkers)
                }
                decisions.append(routed)
            }
            let admitted = now
            var ids: [UInt64] = []
            for ((request, decision), stream) in zip(zip(requests, decisions), streams) {
                let id = core.nextRequestID
                core.nextRequestID += 1
                core.metrics.requests.increment()
                let lifecycle = RequestLifecycle(
                    requestID: id, prompt: request.tokenIDs, params: request.params, stopRule: config.stopRule,
                    maxAttempts: config.maxAttempts)
                core.flights[id] = Flight(lifecycle: lifecycle, admittedAt: admitted, continuation: stream.continuation)
                update(id, in: &core) { $0.dispatched(decision) }
                ids.append(id)
            }
            return .success(ids)
        }
        switch result {
        case .success(let ids):
            return zip(ids, streams).map { id, stream in
                stream.continuation.onTermination = { [weak self] termination in
                    if case .cancelled = termination { self?.cancel(id) }
                }
                return RoutedRequestHandle(id: id, updates: stream.stream)
            }
        case .failure(let error):
            for stream in streams { stream.continuation.finish(throwing: error) }
            throw error
        }
    }

    /// Aborts a request: the worker is told to stop; the stream ends. Unknown ids are ignored.
    package func cancel(_ id: UInt64) {
        core.withLock { core in update(id, in: &core) { $0.clientCancelled() } }
    }

    /// Stops generation early (e.g. a stop string matched at the router) but keeps the stream
    /// open: the worker's `finished` (reason `abort`, with its usage) still arrives.
    package func stopGenerating(_ id: UInt64) {
        core.withLock { core in update(id, in: &core) { $0.stopMatched() } }
    }

    /// Routes under the lock, timing the decision. Returns nil when no worker can take it.
    func route(
        _ tokens: [Int32], _ params: SamplingParams, excluding: Set<WorkerID>, in core: inout CoordinatorCore
    ) -> RouteDecision? {
        let start = ContinuousClock.now
        let decision = core.state.route(
            tokens: tokens[...], namespace: params.namespace, outputTokens: Int(params.maxTokens), now: now,
            excluding: excluding)
        core.metrics.decisionLatency.record((ContinuousClock.now - start) / .seconds(1))
        if let decision {
            if decision.matchedPages > 0 { core.metrics.predictedCacheHits.increment() }
        }
        return decision
    }

    /// Queues a message for `worker` (over the connection it registered on).
    func post(_ message: RouterToWorker, to worker: WorkerID, in core: CoordinatorCore) {
        post(message, toRoutingID: core.routingID(of: worker))
    }

    /// Queues a message for the peer with `routingID`.
    func post(_ message: RouterToWorker, toRoutingID routingID: [UInt8]) {
        var writer = WireWriter(capacity: 256)
        message.encode(into: &writer)
        link.post(.send(routingID: routingID, frame: writer.bytes))
    }
}

/// A submitted request: its router id and its updates.
package struct RoutedRequestHandle: Sendable {
    /// Unique among the router's requests.
    package let id: UInt64
    /// Tokens, then one finish; throws ``RoutedRequestError``.
    package let updates: AsyncThrowingStream<RoutedUpdate, any Error>
}

/// Everything behind the coordinator's lock.
struct CoordinatorCore {
    var state: RouterState
    var workers: [WorkerID: WorkerEntry] = [:]
    var flights: [UInt64: Flight] = [:]
    let metrics = RouterMetrics()
    var nextRequestID: UInt64 = 1
    /// Connections the router made to listening workers (`worker --listen`), by endpoint.
    var connections: [String: WorkerConnection] = [:]
    /// Unknown senders already logged (one line per routing id).
    var loggedStrangers: Set<[UInt8]> = []
    /// When each unregistered sender (by routing id) was last asked to register again.
    var registerAgainSentAt: [[UInt8]: RouterInstant] = [:]
    /// Workers removed by the operator, with the incarnation removed: not asked to register
    /// again, and refused if that incarnation registers.
    var removedIncarnations: [WorkerID: UInt64] = [:]

    init(state: RouterState) { self.state = state }

    /// The connection the router made that `routingID` names, with its endpoint.
    func connection(routingID: [UInt8]) -> (endpoint: String, connection: WorkerConnection)? {
        guard WorkerLink.workerID(routingID: routingID) == nil else { return nil }
        return connections.first { $0.value.routingID == routingID }.map { ($0.key, $0.value) }
    }

    /// The registered worker whose messages carry `routingID`, or nil for a stranger.
    func sender(of routingID: [UInt8]) -> WorkerID? {
        let worker = WorkerLink.workerID(routingID: routingID).map(WorkerID.init) ?? connection(routingID: routingID)?.connection.worker
        guard let worker, workers[worker]?.routingID == routingID else { return nil }
        return worker
    }

    /// Where messages for `worker` go: the connection it registered on, else its own routing id.
    func routingID(of worker: WorkerID) -> [UInt8] {
        workers[worker]?.routingID ?? WorkerLink.routingID(workerID: worker.rawValue)
    }
}

/// A connection the router made to a worker that listens (`POST /workers`).
struct WorkerConnection: Sendable {
    /// The routing id the router gave the connection: everything sent over it carries this id,
    /// which is how a registration is tied to the endpoint it came from.
    var routingID: [UInt8]
    /// The worker that registered over it, once one has.
    var worker: WorkerID?
}

/// A registered worker as the router knows it beyond ``RouterCore/WorkerRegistry``.
struct WorkerEntry: Sendable {
    var registration: WorkerRegistration
    /// The load of its last heartbeat, as it reported it.
    var lastReport: LoadReport?
    /// Set when the router connected to the worker (it listens).
    var endpoint: String?
    /// The routing id its messages carry (its own 4-byte id, or the router's connection id).
    var routingID: [UInt8]
}

/// One request between admission and its finish: its ``RequestLifecycle`` and what the
/// coordinator keeps beside it to time it and to reach its client.
struct Flight: Sendable {
    var lifecycle: RequestLifecycle
    var admittedAt: RouterInstant
    /// When the current attempt last delivered tokens.
    var lastTokenAt: RouterInstant?
    let continuation: AsyncThrowingStream<RoutedUpdate, any Error>.Continuation
}
