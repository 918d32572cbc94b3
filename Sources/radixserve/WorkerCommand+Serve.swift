import Engine
import Foundation
import Logging
import ServingTypes
import Transport
import WorkerService

extension WorkerCommand {
    /// Connects `loop` to the router and blocks until SIGINT/SIGTERM (a graceful stop, after a
    /// drain: see ``drain(_:loop:signals:)``) or a failure, thrown as ``CommandFailure``: the router
    /// refused the worker or never answered, the connection ended, or the model failed. The engine
    /// is shut down either way.
    func serve(_ loop: EngineLoop, outbox: WorkerOutbox, endpointConfig: WorkerEndpointConfig) throws {
        let context = try ZMQContext()
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
        if let failure { throw CommandFailure(message: failure) }
        endpointConfig.logger.info("stopped")
    }

    /// After a first signal: has the router route nothing more here and waits until the engine
    /// has no request left, `--drain-timeout` passes, a second signal arrives, or the endpoint or
    /// model fails.
    private func drain(_ endpoint: WorkerEndpoint, loop: EngineLoop, signals: TerminationSignals) {
        guard drainTimeout > 0 else { return }
        let timeout = Duration.milliseconds(Int64(drainTimeout * 1000))
        endpoint.drain(deadline: timeout)
        let deadline = ContinuousClock.now.advanced(by: timeout)
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
        endpoint.config.logger.notice(
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
                return "no answer from the router at \(endpoint.config.routerEndpoint) within \(registrationTimeout) s"
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
