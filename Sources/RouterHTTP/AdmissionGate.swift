// RadixServe: the HTTP side of per-key admission: waiting in the queue, 429s, release on every path.

import Foundation
import HTTPTypes
import RouterCore
import Synchronization

/// Holds requests to ``Admission``'s limits: `admit` returns at once, waits in the priority queue,
/// or throws a 429 (400 for a request larger than its key may ever send) with `Retry-After`.
/// Every admitted request gets an ``AdmissionPass`` whose release frees its slot exactly once.
package final class AdmissionGate: Sendable {
    /// The name figures are kept under for requests that present no key (a router without keys).
    package static let anonymous = "anonymous"

    private struct State {
        var admission: Admission
        var nextTicket: Admission.Ticket = 1
        var waiters: [Admission.Ticket: CheckedContinuation<Void, any Error>] = [:]
        /// Verdicts that reached a waiter before it began to wait.
        var early: [Admission.Ticket: Result<Void, any Error>] = [:]
    }

    private let state: Mutex<State>
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant

    package init(bounds: AdmissionBounds, defaults: KeyLimits = .unlimited, perKey: [String: KeyLimits] = [:], knownKeys: [String] = []) {
        origin = clock.now
        state = Mutex(State(admission: Admission(
            bounds: bounds, defaults: defaults, perKey: perKey, knownKeys: knownKeys, now: RouterInstant(nanoseconds: 0))))
    }

    /// A router whose only bound is the coordinator's own: no per-key limit, no queue wait.
    package static func unlimited(knownKeys: [String] = []) -> AdmissionGate {
        AdmissionGate(bounds: AdmissionBounds(maxRunningRequests: .max, maxQueuedRequests: 0), knownKeys: knownKeys)
    }

    var now: RouterInstant {
        let (seconds, attoseconds) = (clock.now - origin).components
        return RouterInstant(nanoseconds: seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// Admits a request of `key` (nil: ``anonymous``) costing `cost` tokens, waiting in the queue if
    /// the router is full.
    /// - Throws: ``APIError`` 429 with `Retry-After` when refused, 400 when the request can never fit;
    ///   `CancellationError` when the task is cancelled while it waits.
    package func admit(key: String?, cost: Int, priority: Int) async throws -> AdmissionPass {
        let key = key ?? Self.anonymous
        let (ticket, verdict) = state.withLock { state in
            let ticket = state.nextTicket
            state.nextTicket += 1
            return (ticket, state.admission.request(ticket, key: key, cost: cost, priority: priority, now: now))
        }
        switch verdict {
        case .admitted:
            return AdmissionPass(gate: self, ticket: ticket)
        case .refused(let refusal):
            throw Self.apiError(refusal, key: key)
        case .queued:
            let expiry = Task { [weak self] in
                guard let self else { return }
                let wait = state.withLock { $0.admission.bounds.maxQueueWait }
                try await Task.sleep(for: wait)
                expireWaiters()
            }
            defer { expiry.cancel() }
            do {
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { continuation in
                        state.withLock { state in
                            if let early = state.early.removeValue(forKey: ticket) {
                                continuation.resume(with: early)
                            } else {
                                state.waiters[ticket] = continuation
                            }
                        }
                    }
                } onCancel: {
                    withdraw(ticket, error: CancellationError())
                }
            } catch let refusal as Admission.Refusal {
                throw Self.apiError(refusal, key: key)
            }
            return AdmissionPass(gate: self, ticket: ticket)
        }
    }

    /// The figures of every key and of the queue, for `/metrics`.
    package func figures() -> (keys: [String: Admission.KeyFigures], running: Int, queued: Int, bounds: AdmissionBounds) {
        state.withLock { state in
            (state.admission.figures(now: now), state.admission.runningCount, state.admission.queuedCount, state.admission.bounds)
        }
    }

    /// Ends admitted request `ticket`, letting waiters in.
    func release(_ ticket: Admission.Ticket) {
        state.withLock { state in
            let admitted = state.admission.finish(ticket)
            for next in admitted { Self.resume(next, with: .success(()), in: &state) }
        }
    }

    /// Fails waiting request `ticket` with `error`; nothing when it no longer waits.
    private func withdraw(_ ticket: Admission.Ticket, error: any Error) {
        state.withLock { state in
            if state.admission.withdraw(ticket) { Self.resume(ticket, with: .failure(error), in: &state) }
        }
    }

    private func expireWaiters() {
        state.withLock { state in
            for (ticket, refusal) in state.admission.expire(now: now) {
                Self.resume(ticket, with: .failure(refusal), in: &state)
            }
        }
    }

    private static func resume(_ ticket: Admission.Ticket, with result: Result<Void, any Error>, in state: inout State) {
        if let waiter = state.waiters.removeValue(forKey: ticket) {
            waiter.resume(with: result)
        } else {
            state.early[ticket] = result
        }
    }

    static func apiError(_ refusal: Admission.Refusal, key: String) -> APIError {
        var error: APIError
        switch refusal {
        case .concurrency(let limit):
            error = APIError(
                .tooManyRequests, "API key '\(key)' has \(limit) requests running or queued, its limit; retry when one ends",
                code: "concurrency_limit_exceeded")
        case .tokenRate(let needed, let available, let limit, _):
            error = APIError(
                .tooManyRequests,
                "API key '\(key)' may use \(limit) tokens per minute (prompt + max_tokens); this request needs \(needed) "
                    + "and \(available) are available now",
                code: "rate_limit_exceeded")
        case .tooLarge(let cost, let limit):
            error = APIError.invalid(
                "this request needs \(cost) tokens (prompt + max_tokens), more than the \(limit) per minute API key '\(key)' may use; "
                    + "lower max_tokens or shorten the prompt",
                param: "max_tokens", code: "request_too_large")
        case .queueFull(let limit):
            error = APIError(.tooManyRequests, "the router's queue holds \(limit) requests, its limit; retry later", code: "queue_full")
        case .queueTimeout(let waited):
            error = APIError(
                .tooManyRequests, "the request waited \(waited.components.seconds) s in the router's queue without a free slot; retry later",
                code: "queue_timeout")
        }
        error.retryAfterSeconds = refusal.retryAfterSeconds
        return error
    }
}

extension Admission.Refusal: Error {}

/// An admitted request's slot; ``release()`` (or dropping the last reference) frees it once.
package final class AdmissionPass: Sendable {
    private let gate: AdmissionGate
    private let ticket: Admission.Ticket
    private let released = Atomic<Bool>(false)

    init(gate: AdmissionGate, ticket: Admission.Ticket) {
        self.gate = gate
        self.ticket = ticket
    }

    /// Frees the slot; later calls do nothing.
    package func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        gate.release(ticket)
    }

    deinit { release() }
}
