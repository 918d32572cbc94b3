// RadixServe: a worker process's service, from a loaded model to a graceful stop.

import Engine
import Foundation
import Logging
import Models
import ServingTypes
import Tokenizers
import Transport

/// What `radixserve worker` runs once the model is loaded: the engine loop with KV cache events
/// published, the ``WorkerEndpoint`` that serves a router, and the wait for the end (SIGINT or
/// SIGTERM, then a drain; or a failure).
public struct WorkerProcess: Sendable {
    /// The engine configuration (see ``engineConfig(_:hashSeed:directory:)``).
    public var engineConfig: EngineConfig
    /// Where and as whom to serve the router.
    public var endpointConfig: WorkerEndpointConfig
    /// After a first signal, how long running requests may take to finish (zero: leave at once).
    public var drainTimeout: Duration

    /// Creates a worker service.
    public init(engineConfig: EngineConfig, endpointConfig: WorkerEndpointConfig, drainTimeout: Duration) {
        self.engineConfig = engineConfig
        self.endpointConfig = endpointConfig
        self.drainTimeout = drainTimeout
    }

    /// A worker's engine configuration from `base`: KV cache events published with page hashes
    /// seeded by `hashSeed` (the router's), and generation also ending at the end-of-sequence ids of
    /// the tokenizer beside the checkpoint in `directory`, if there is one (the router tokenizes;
    /// the worker only needs to know where generation ends).
    public static func engineConfig(_ base: EngineConfig, hashSeed: UInt64, directory: URL) throws -> EngineConfig {
        var config = base
        config.isPublishingKVEvents = true
        config.hashSeed = hashSeed
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("tokenizer.json").path) {
            config.extraEOSTokenIDs = Set(try AutoTokenizer.load(directory: directory).eosTokenIDs.map(Int32.init))
        }
        return config
    }

    /// Runs `model` (which it owns from here) in an engine loop, connects it to the router and
    /// blocks until SIGINT/SIGTERM (a graceful stop, after a drain: see ``drain(_:loop:signals:)``)
    /// or a failure, thrown as ``WorkerFailure``: the router refused the worker or never answered,
    /// the connection ended, or the model failed. The engine is shut down either way.
    public func run(model: sending any ForwardModel) throws {
        let outbox = WorkerOutbox()
        let loop = try EngineLoop(model: model, config: engineConfig, sink: outbox.sink, cacheEventSink: outbox.cacheEventSink)
        let context: ZMQContext
        do {
            context = try ZMQContext()
        } catch {
            loop.shutdown()
            throw error
        }
        let endpoint = WorkerEndpoint(config: endpointConfig, engine: loop, outbox: outbox, context: context)
        let signals = TerminationSignals()
        defer { signals.restore() }
        do {
            try endpoint.start()
        } catch {
            loop.shutdown()
            throw error
        }
        let failure = waitForEnd(of: endpoint, loop: loop, signals: signals)
        if failure == nil { drain(endpoint, loop: loop, signals: signals) }
        // The endpoint first: it tells the router it is leaving, and the router moves what is
        // unfinished to other workers (re-prefilling those that streamed), instead of receiving
        // those requests as errors from a shutting-down engine.
        endpoint.stop()
        loop.shutdown()
        if let failure { throw WorkerFailure(message: failure) }
        endpointConfig.logger.info("stopped")
    }

    /// After a first signal: has the router route nothing more here and waits until the engine
    /// has no request left, ``drainTimeout`` passes, a second signal arrives, or the endpoint or
    /// model fails.
    private func drain(_ endpoint: WorkerEndpoint, loop: EngineLoop, signals: TerminationSignals) {
        guard drainTimeout > .zero else { return }
        endpoint.drain(deadline: drainTimeout)
        let deadline = ContinuousClock.now.advanced(by: drainTimeout)
        while ContinuousClock.now < deadline {
            let load = loop.load.report
            if load.runningCount == 0 && load.waitingCount == 0 { return }
            if signals.count > 1 {
                endpoint.config.logger.notice("second signal: leaving with \(load.runningCount + load.waitingCount) requests unfinished")
                return
            }
            if case .stopped = endpoint.state { return }
            if loop.modelFailure != nil { return }
            usleep(20_000)
        }
        let load = loop.load.report
        endpoint.config.logger.warning(
            "drain deadline passed: leaving with \(load.runningCount + load.waitingCount) requests unfinished")
    }

    /// Polls for the end of service; returns why it failed, or `nil` after a signal.
    private func waitForEnd(of endpoint: WorkerEndpoint, loop: EngineLoop, signals: TerminationSignals) -> String? {
        while true {
            if let signal = signals.caught {
                endpoint.config.logger.notice("received \(TerminationSignals.name(of: signal)); shutting down")
                return nil
            }
            switch endpoint.state {
            case .refused(let reason):
                return "the router refused this worker: \(reason)"
            case .timedOut:
                let seconds = Double(endpointConfig.registrationTimeout.components.seconds)
                    + Double(endpointConfig.registrationTimeout.components.attoseconds) * 1e-18
                return "no answer from the router at \(endpoint.config.routerEndpoint) within \(seconds) s"
            case .stopped(let reason):
                return "the worker endpoint stopped: \(reason)"
            case .pending, .registered:
                break
            }
            if let failure = loop.modelFailure { return "the model can no longer run: \(failure)" }
            usleep(50_000)
        }
    }
}

/// Why a worker stopped serving, printed as its message alone.
public struct WorkerFailure: Error, CustomStringConvertible {
    /// What happened.
    public var message: String
    public var description: String { message }
}
