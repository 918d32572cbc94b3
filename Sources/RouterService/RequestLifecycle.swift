// RadixServe: one routed request's lifecycle, as a state machine that returns actions.

import Logging
import RouterCore
import ServingTypes
import WireProtocol

/// One request between admission and its end: its attempts on workers, the tokens streamed,
/// retries after a worker fails, goes away or cannot be reached, and its stop or cancellation.
///
/// A value: ``RouterCoordinator`` feeds it what happened to the request and performs the actions
/// it returns (posting to workers, routing, yielding to the stream, releasing load, metrics,
/// logs); it never touches a socket or a continuation, so every transition is tested without one.
///
/// ```
///                    dispatched                stopMatched
///  routing ─────────────────────────▶ running ──────────────▶ stopping
///     ▲  noWorkerAvailable: fail         │ │ clientCancelled      │ clientCancelled
///     │                                  │ └──────────▶ cancelled ◀┘
///     └── workerFailed / workerLost / sendFailed: retry (or finish, or fail)
///  running, stopping, cancelled ── workerFinished, shutdown … ──▶ done
/// ```
///
/// Invariants: every attempt's load reservation is released exactly once (one `.release`
/// action per `dispatched`); the stream gets at most one `.finishStream`, `.failStream` or
/// `.closeStream` and nothing after it; an event from a worker that does not own the request
/// (now) is ignored. Not thread-safe: the coordinator owns it under its lock.
struct RequestLifecycle: Sendable {
    /// What the coordinator must do, in order.
    enum Action: Hashable {
        /// Send `submit` to a worker (and start timing a new attempt).
        case sendSubmit(WorkerSubmit, to: WorkerID)
        /// Tell a worker to stop the request.
        case sendAbort(to: WorkerID)
        /// Choose a worker for these tokens, avoiding `excluding`, then call ``dispatched(_:)``
        /// with the decision or ``noWorkerAvailable()``.
        case route(tokenIDs: [Int32], params: SamplingParams, excluding: Set<WorkerID>)
        /// The attempt's prefill is done (its first tokens arrived).
        case prefillCompleted(RouteDecision)
        /// Yield tokens to the client; `isFirst`: the request's first tokens.
        case yieldTokens([Int32], logprobs: [TokenLogprobs], isFirst: Bool)
        /// Yield the finish and end the stream.
        case finishStream(RoutedFinish)
        /// End the stream with an error.
        case failStream(RoutedRequestError)
        /// End the stream silently (the client went away).
        case closeStream
        /// Release an attempt's load reservation.
        case release(RouteDecision)
        /// Count something in the router's metrics.
        case record(Metric)
        /// A line for the log, about `worker`.
        case log(Logger.Level, String, worker: WorkerID)
    }

    /// What the metrics count (timings stay with the coordinator).
    enum Metric: Hashable {
        /// A worker sent the request's `finished`.
        case processed(by: WorkerID)
        /// The request completed normally, with its usage.
        case completed(promptTokens: Int, generatedTokens: Int, cachedTokens: Int)
        /// The request ended with an error.
        case failed
        /// A cancelled request was let go by its worker.
        case aborted
        /// The request was dispatched again after a failure.
        case retried
        /// A worker carrying streamed tokens went away; the request moves on.
        case recoveredAfterStreaming
    }

    /// One dispatch to a worker.
    struct Attempt: Hashable {
        var decision: RouteDecision
        /// `generated.count` when the attempt started: the worker counts its output from here.
        var resumeOffset: Int
        var worker: WorkerID { decision.worker }
    }

    enum State: Hashable {
        /// Waiting for a worker: before the first dispatch, or after the failure `reason`.
        case routing(after: String?)
        /// On a worker, streaming.
        case running(Attempt)
        /// The router asked the worker to stop (a stop string matched); its finish still counts.
        case stopping(Attempt)
        /// The client went away: the stream is closed and the worker told to abort; the load
        /// stays reserved until the worker lets the request go.
        case cancelled(Attempt)
        /// Finished or failed; every reservation released.
        case done
    }

    let requestID: UInt64
    let prompt: [Int32]
    let params: SamplingParams
    private let stopRule: StopRule
    private let maxAttempts: Int
    private(set) var state: State = .routing(after: nil)
    /// Every token streamed to the client so far (resent after a worker loss).
    private(set) var generated: [Int32] = []
    /// Dispatches so far.
    private(set) var attemptCount = 0
    /// Workers that failed the request: never chosen for it again.
    private(set) var excluded: Set<WorkerID> = []

    /// A request waiting for its first ``dispatched(_:)``; `maxAttempts` bounds the dispatches.
    init(requestID: UInt64, prompt: [Int32], params: SamplingParams, stopRule: StopRule, maxAttempts: Int) {
        self.requestID = requestID
        self.prompt = prompt
        self.params = params
        self.stopRule = stopRule
        self.maxAttempts = maxAttempts
    }

    /// The worker that owns the request now (it runs, stops or aborts it), if any.
    var worker: WorkerID? { attempt?.worker }

    /// Whether the request ended: the coordinator forgets it.
    var isDone: Bool { state == .done }

    private var attempt: Attempt? {
        switch state {
        case .running(let attempt), .stopping(let attempt), .cancelled(let attempt): attempt
        case .routing, .done: nil
        }
    }

    // MARK: - Dispatch

    /// A worker was chosen: send it the prompt and what was streamed, asking for the rest.
    mutating func dispatched(_ decision: RouteDecision) -> [Action] {
        guard case .routing = state else { preconditionFailure("Invalid state: \(state)") }
        let isRetry = attemptCount > 0
        attemptCount += 1
        state = .running(Attempt(decision: decision, resumeOffset: generated.count))
        var remaining = params
        remaining.maxTokens -= generated.count
        remaining.minTokens = max(0, remaining.minTokens - generated.count)
        let submit = WorkerSubmit(
            requestID: requestID, tokenIDs: prompt + generated, params: remaining, resumedOutputCount: UInt32(generated.count))
        return (isRetry ? [.record(.retried)] : []) + [.sendSubmit(submit, to: decision.worker)]
    }

    /// No worker could take a retry.
    mutating func noWorkerAvailable() -> [Action] {
        guard case .routing(let reason?) = state else { preconditionFailure("Invalid state: \(state)") }
        state = .done
        return [.record(.failed), .failStream(.failed("no other worker could take the request after \(reason)"))]
    }

    // MARK: - Worker messages

    /// Tokens from `worker`. Indices count from the start of its attempt; what was already
    /// delivered is dropped, and so is everything from a worker that does not own the request.
    mutating func tokensArrived(_ output: TokenOutput, from worker: WorkerID) -> [Action] {
        let attempt: Attempt
        switch state {
        case .running(let current), .stopping(let current): attempt = current
        case .routing, .cancelled, .done: return []
        }
        guard attempt.worker == worker else { return [] }
        let skip = generated.count - attempt.resumeOffset - Int(output.firstIndex)
        guard skip >= 0, skip < output.tokenIDs.count else { return [] }
        let tokens = Array(output.tokenIDs[skip...])
        let logprobs = output.logprobs.count == output.tokenIDs.count ? Array(output.logprobs[skip...]) : []
        var actions: [Action] = []
        if generated.count == attempt.resumeOffset { actions.append(.prefillCompleted(attempt.decision)) }
        actions.append(.yieldTokens(tokens, logprobs: logprobs, isFirst: generated.isEmpty))
        generated += tokens
        return actions
    }

    /// The worker's `finished`, with usage counted from its attempt.
    mutating func workerFinished(_ finish: RequestFinish, from worker: WorkerID) -> [Action] {
        guard let attempt, attempt.worker == worker else { return [] }
        let isCancelled = state == .cancelled(attempt)
        state = .done
        var actions: [Action] = [.release(attempt.decision), .record(.processed(by: worker))]
        if isCancelled { return actions + [.record(.aborted)] }
        let completion = attempt.resumeOffset + Int(finish.completionTokens)
        let cached = min(Int(finish.cachedTokens), prompt.count)
        if case .error = finish.reason {
            actions.append(.record(.failed))
        } else {
            actions.append(.record(.completed(promptTokens: prompt.count, generatedTokens: completion, cachedTokens: cached)))
        }
        return actions + [.finishStream(finished(finish.reason, completionTokens: completion, cachedTokens: cached, on: worker))]
    }

    /// The worker's `failed`: an invalid request fails at once; anything else is retried elsewhere.
    mutating func workerFailed(code: WorkerFailureCode, message: String, from worker: WorkerID) -> [Action] {
        workerLetGo(worker, isAbortCounted: false) { lifecycle, attempt in
            guard code != .invalidRequest else {
                lifecycle.state = .done
                return [.release(attempt.decision), .record(.failed), .failStream(.failed(message))]
            }
            let line = "\(worker) could not run request \(lifecycle.requestID) (\(code)): \(message)"
            return [.log(.warning, line, worker: worker)] + lifecycle.retry(attempt, after: "\(worker): \(message)")
        }
    }

    /// `worker` is gone (lost, left, removed, restarted or replaced): the request moves on.
    mutating func workerLost(_ worker: WorkerID, reason: String) -> [Action] {
        workerLetGo(worker, isAbortCounted: true) { lifecycle, attempt in
            (lifecycle.generated.isEmpty ? [] : [.record(.recoveredAfterStreaming)]) + lifecycle.retry(attempt, after: reason)
        }
    }

    /// The `submit` to `worker` could not be sent: a lost submission would wait for ever.
    mutating func sendFailed(to worker: WorkerID) -> [Action] {
        workerLetGo(worker, isAbortCounted: false) { lifecycle, attempt in
            lifecycle.retry(attempt, after: "the request could not be sent to \(worker)")
        }
    }

    /// `worker` can no longer finish the request. A running request goes on as `running` says;
    /// a stopped one ends with what streamed; a cancelled one is let go (counted as aborted when
    /// `isAbortCounted`, as the worker's loss is). Ignored unless `worker` owns the request.
    private mutating func workerLetGo(
        _ worker: WorkerID, isAbortCounted: Bool, running: (inout RequestLifecycle, Attempt) -> [Action]
    ) -> [Action] {
        switch state {
        case .running(let attempt) where attempt.worker == worker:
            return running(&self, attempt)
        case .stopping(let attempt) where attempt.worker == worker:
            return endStopped(attempt)
        case .cancelled(let attempt) where attempt.worker == worker:
            state = .done
            return [.release(attempt.decision)] + (isAbortCounted ? [.record(.aborted)] : [])
        default:
            return []
        }
    }

    // MARK: - Router and client

    /// The client went away: close the stream and abort on the worker, which still owns the
    /// load until it lets go (its `finished`, `failed`, or its loss).
    mutating func clientCancelled() -> [Action] {
        switch state {
        case .running(let attempt), .stopping(let attempt):
            state = .cancelled(attempt)
            return [.closeStream, .sendAbort(to: attempt.worker)]
        case .routing, .cancelled, .done:
            return []
        }
    }

    /// A stop string matched at the router: the worker is told to stop; the stream stays open
    /// for its `finished` (reason `abort`, with its usage).
    mutating func stopMatched() -> [Action] {
        guard case .running(let attempt) = state else { return [] }
        state = .stopping(attempt)
        return [.sendAbort(to: attempt.worker)]
    }

    /// The router is shutting down: the request fails.
    mutating func shutdown() -> [Action] {
        switch state {
        case .running(let attempt), .stopping(let attempt):
            state = .done
            return [.release(attempt.decision), .record(.failed), .failStream(.shuttingDown)]
        case .cancelled(let attempt):
            state = .done
            return [.release(attempt.decision)]
        case .routing, .done:
            return []
        }
    }

    // MARK: - Endings

    /// Releases the failed attempt and asks for another worker, unless what was streamed is
    /// already complete or the attempts are spent.
    private mutating func retry(_ attempt: Attempt, after reason: String) -> [Action] {
        excluded.insert(attempt.worker)
        let release = Action.release(attempt.decision)
        if let last = generated.last,
            let reason = stopRule.finishReason(
                params: params, lastToken: last, outputCount: generated.count, sequenceLength: prompt.count + generated.count)
        {
            // The worker went away between its last token and its `finished`, after a stop token
            // or everything asked for: the request is complete.
            state = .done
            return [release, .finishStream(finished(reason, completionTokens: generated.count, cachedTokens: 0, on: attempt.worker))]
        }
        guard attemptCount < maxAttempts else {
            state = .done
            let error = RoutedRequestError.failed("the request failed on \(attemptCount) workers; last: \(reason)")
            return [release, .record(.failed), .failStream(error)]
        }
        state = .routing(after: reason)
        return [release, .route(tokenIDs: prompt + generated, params: params, excluding: excluded)]
    }

    /// Finishes a request the router asked to stop with what was streamed, when its worker can
    /// no longer send the finish itself.
    private mutating func endStopped(_ attempt: Attempt) -> [Action] {
        state = .done
        return [
            .release(attempt.decision),
            .finishStream(finished(.abort, completionTokens: generated.count, cachedTokens: 0, on: attempt.worker)),
        ]
    }

    private func finished(_ reason: FinishReason, completionTokens: Int, cachedTokens: Int, on worker: WorkerID) -> RoutedFinish {
        RoutedFinish(
            reason: reason, promptTokens: prompt.count, completionTokens: completionTokens, cachedTokens: cachedTokens,
            workerID: worker.rawValue, attempts: attemptCount)
    }
}
