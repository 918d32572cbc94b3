// RadixServe: the coordinator performs what each request's lifecycle decides.

import CoreMetrics
import Logging
import RouterCore
import WireProtocol

extension RouterCoordinator {
    /// Feeds one event to a flight's ``RequestLifecycle`` and performs the actions it returns;
    /// a flight whose lifecycle is done is forgotten first. Unknown ids are ignored.
    func update(
        _ id: UInt64, in core: inout CoordinatorCore, _ event: (inout RequestLifecycle) -> [RequestLifecycle.Action]
    ) {
        guard var flight = core.flights[id] else { return }
        let actions = event(&flight.lifecycle)
        core.flights[id] = flight.lifecycle.isDone ? nil : flight
        for action in actions { perform(action, for: id, of: flight, in: &core) }
    }

    /// Moves every request of `worker` to another one: re-dispatched if nothing streamed yet,
    /// re-prefilled with its generated tokens otherwise.
    func moveFlights(off worker: WorkerID, reason: String, in core: inout CoordinatorCore) {
        let ids = core.flights.filter { $0.value.lifecycle.worker == worker }.keys.sorted()
        for id in ids { update(id, in: &core) { $0.workerLost(worker, reason: reason) } }
    }

    /// Performs one action for request `id`; `flight` is its state when the event was fed (its
    /// stream and admission time). Timings that change are read and written in `core`.
    private func perform(_ action: RequestLifecycle.Action, for id: UInt64, of flight: Flight, in core: inout CoordinatorCore) {
        switch action {
        case .sendSubmit(let submit, let worker):
            core.flights[id]?.lastTokenAt = nil
            post(.submit(submit), to: worker, in: core)
        case .sendAbort(let worker):
            post(.abort(requestID: id), to: worker, in: core)
        case .route(let tokens, let params, let excluding):
            if let decision = route(tokens, params, excluding: excluding, in: &core) {
                update(id, in: &core) { $0.dispatched(decision) }
            } else {
                update(id, in: &core) { $0.noWorkerAvailable() }
            }
        case .prefillCompleted(let decision):
            core.state.prefillCompleted(decision)
        case .yieldTokens(let tokens, let logprobs, let isFirst):
            let arrival = now
            if isFirst {
                core.metrics.timeToFirstToken.record(arrival.seconds(since: flight.admittedAt))
            } else if let last = core.flights[id]?.lastTokenAt {
                let perToken = arrival.seconds(since: last) / Double(tokens.count)
                for _ in tokens { core.metrics.interTokenLatency.record(perToken) }
            }
            core.flights[id]?.lastTokenAt = arrival
            flight.continuation.yield(.tokens(tokens, logprobs: logprobs))
        case .finishStream(let finish):
            flight.continuation.yield(.finished(finish))
            flight.continuation.finish()
        case .failStream(let error):
            flight.continuation.finish(throwing: error)
        case .closeStream:
            flight.continuation.finish()
        case .release(let decision):
            core.state.finish(decision)
        case .record(let metric):
            record(metric, admittedAt: flight.admittedAt, in: core)
        case .log(let level, let line, let worker):
            config.logger.log(level: level, "\(line)", metadata: worker.logMetadata.merging(["request": "\(id)"]) { $1 })
        }
    }

    private func record(_ metric: RequestLifecycle.Metric, admittedAt: RouterInstant, in core: CoordinatorCore) {
        switch metric {
        case .processed(let worker):
            core.metrics.recordProcessed(by: worker.rawValue)
        case .completed(let promptTokens, let generatedTokens, let cachedTokens):
            core.metrics.recordCompleted(
                promptTokens: promptTokens, generatedTokens: generatedTokens, cachedTokens: cachedTokens,
                seconds: now.seconds(since: admittedAt))
        case .failed:
            core.metrics.failedRequests.increment()
        case .aborted:
            core.metrics.abortedRequests.increment()
        case .retried:
            core.metrics.retries.increment()
        case .recoveredAfterStreaming:
            core.metrics.recoveredAfterStreaming.increment()
        }
    }
}
