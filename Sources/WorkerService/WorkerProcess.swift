// RadixServe: a worker process's service, from a loaded model to a graceful stop.

import Backends
import Engine
import Foundation
import Logging
import Models
import ProcessLifecycle
import ServiceLifecycle
import ServingTypes
import StructuredOutput
import Tokenizers
import Transport

/// What `radixserve worker` runs once the model is loaded: the engine loop with KV cache events
/// published and the ``WorkerEndpoint`` that serves a router, as a service group that ends on
/// SIGINT or SIGTERM (after a drain) or on a failure.
public struct WorkerProcess: Sendable {
    /// The engine configuration (see ``engineConfig(_:hashSeed:directory:)``).
    public var engineConfig: EngineConfig
    /// Where and as whom to serve the router.
    public var endpointConfig: WorkerEndpointConfig
    /// After a first signal, how long running requests may take to finish (zero: leave at once).
    public var drainTimeout: Duration
    /// Where to serve `GET /metrics` and `GET /health` over HTTP (`nil`: nowhere; port 0: any
    /// free port, logged at start).
    public var metricsAddress: (host: String, port: Int)?

    /// Creates a worker service.
    public init(
        engineConfig: EngineConfig, endpointConfig: WorkerEndpointConfig, drainTimeout: Duration,
        metricsAddress: (host: String, port: Int)? = nil
    ) {
        self.engineConfig = engineConfig
        self.endpointConfig = endpointConfig
        self.drainTimeout = drainTimeout
        self.metricsAddress = metricsAddress
    }

    /// A worker's engine configuration from `base`: KV cache events published with page hashes
    /// seeded by `hashSeed` (the router's), and generation also ending at the end-of-sequence ids of
    /// the tokenizer beside the checkpoint in `directory`, if there is one (the router tokenizes;
    /// the worker only needs to know where generation ends, and the tokens' bytes for output
    /// constraints).
    public static func engineConfig(_ base: EngineConfig, hashSeed: UInt64, directory: URL) throws -> EngineConfig {
        var config = base
        config.isPublishingKVEvents = true
        config.hashSeed = hashSeed
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("tokenizer.json").path) {
            let tokenizer = try AutoTokenizer.load(directory: directory)
            config.extraEOSTokenIDs = Set(tokenizer.eosTokenIDs.map(Int32.init))
            if config.vocabulary == nil { config.vocabulary = TokenVocabulary(tokenizer: tokenizer) }
        }
        return config
    }

    /// Runs `model` (which it owns from here) in an engine loop, connects it to the router and
    /// serves until SIGINT/SIGTERM (a graceful stop, after a drain: see ``WorkerServing``) or a
    /// failure, thrown as ``WorkerFailure``: the router refused the worker or never answered, the
    /// connection ended, or the model failed. The engine is shut down either way.
    ///
    /// The process is a service group of, in start order, the signals, the engine loop, the metrics
    /// server (with ``metricsAddress``) and the endpoint serving the router; a shutdown stops them
    /// in reverse: the endpoint first, so it
    /// tells the router it is leaving and the router moves what is unfinished to other workers
    /// (re-prefilling those that streamed), instead of receiving those requests as errors from a
    /// shutting-down engine.
    public func run(model: sending any ForwardModel) async throws {
        let outbox = WorkerOutbox()
        let device = model.backend.device
        let memory = device.memoryInfo()
        let kvDType = engineConfig.kvCacheDType
        let loop = try EngineLoop(model: model, config: engineConfig, sink: outbox.sink, cacheEventSink: outbox.cacheEventSink)
        let pages = loop.load.report.totalPages
        endpointConfig.logger.info(
            "device \(device.name) (\(device.kind.rawValue), \(memory.free >> 20) of \(memory.total >> 20) MiB free after weights); KV cache of \(pages) pages × \(engineConfig.pageSize) tokens in \(kvDType)")
        let context: ZMQContext
        do {
            context = try ZMQContext()
        } catch {
            loop.shutdown()
            throw error
        }
        let endpoint = WorkerEndpoint(config: endpointConfig, engine: loop, outbox: outbox, context: context)
        let changes = loop.changes
        let signals = ShutdownSignals(logger: endpointConfig.logger) { _ in changes.notify() }
        let serving = WorkerServing(endpoint: endpoint, engine: loop, drainTimeout: drainTimeout, signals: signals)
        var services: [any Service] = [EngineLoopService(loop)]
        if let (host, port) = metricsAddress {
            // Before the endpoint, so it is stopped after it: it answers throughout the drain.
            let logger = endpointConfig.logger
            let server = WorkerMetricsServer(
                endpoint: endpoint, engine: loop, metrics: WorkerMetrics(workerID: endpointConfig.workerID))
            services.append(server.application(host: host, port: port, logger: logger) { bound in
                logger.info("serving metrics on http://\(host):\(bound)/metrics")
            })
        }
        try await ProcessServices.run(services + [serving], signals: signals, logger: endpointConfig.logger)
        endpointConfig.logger.info("stopped")
    }
}

/// Owns an ``EngineLoop`` in a service group: shuts it down when the group stops.
public struct EngineLoopService: Service {
    let loop: EngineLoop

    /// A service for `loop`, which must already run.
    public init(_ loop: EngineLoop) {
        self.loop = loop
    }

    public func run() async throws {
        try? await gracefulShutdown()
        loop.shutdown()
    }
}

/// A worker's endpoint as a service: it registers with the router and serves it until the group
/// shuts down (then drains) or the endpoint or the model fails (then it throws ``WorkerFailure``).
struct WorkerServing: Service {
    let endpoint: WorkerEndpoint
    let engine: EngineLoop
    /// After a first signal, how long running requests may take to finish (zero: leave at once).
    let drainTimeout: Duration
    let signals: ShutdownSignals

    func run() async throws {
        try endpoint.start()
        defer { endpoint.stop() }
        let changes = engine.changes
        let end = await withGracefulShutdownHandler {
            await changes.wait { Task.isShuttingDownGracefully ? End.shutdown : failure().map(End.failed) }
        } onGracefulShutdown: {
            changes.notify()
        }
        switch end {
        case .failed(let message)?: throw WorkerFailure(message: message)
        case .shutdown?: await drain()
        case nil: return  // cancelled: another service failed
        }
    }

    private enum End {
        case shutdown
        case failed(String)
    }

    /// Why the endpoint or the model can no longer serve, or `nil` while they can.
    private func failure() -> String? {
        switch endpoint.state {
        case .refused(let reason):
            return "the router refused this worker: \(reason)"
        case .timedOut:
            return "no answer from the router at \(endpoint.config.routerEndpoint) within \(endpoint.config.registrationTimeout.seconds) s"
        case .stopped(let reason):
            return "the worker endpoint stopped: \(reason)"
        case .pending, .registered:
            return engine.modelFailure.map { "the model can no longer run: \($0)" }
        }
    }

    /// After a first signal: has the router route nothing more here and waits until no request is
    /// left (neither in the engine's load nor unfinished on the endpoint), ``drainTimeout`` passes,
    /// a second signal arrives, or the endpoint or model fails.
    private func drain() async {
        guard drainTimeout > .zero else { return }
        endpoint.drain(deadline: drainTimeout)
        let ended: Bool? = await engine.changes.wait(until: .now.advanced(by: drainTimeout)) {
            let load = engine.load.report
            if load.runningCount == 0 && load.waitingCount == 0 && endpoint.unfinishedRequestCount == 0 { return true }
            if signals.count > 1 {
                endpoint.config.logger.notice("second signal: leaving with \(load.runningCount + load.waitingCount) requests unfinished")
                return true
            }
            if case .stopped = endpoint.state { return true }
            return engine.modelFailure != nil ? true : nil
        }
        if ended == nil {
            let load = engine.load.report
            endpoint.config.logger.warning(
                "drain deadline passed: leaving with \(load.runningCount + load.waitingCount) requests unfinished")
        }
    }
}

/// Why a worker stopped serving, printed as its message alone.
public struct WorkerFailure: Error, CustomStringConvertible {
    /// What happened.
    public var message: String
    public var description: String { message }
}
