// RadixServe: engine events handed to a waiting thread, one at a time.

import Foundation
import Scheduling
import ServingTypes

/// A sink that queues an ``EngineLoop``'s events for one consuming thread, which takes them as
/// they arrive: the synchronous way to drive the engine (the CLI's `generate --prompt`, the
/// single-request benchmark, tests). Use ``receive(_:)`` as the engine's sink.
///
/// Thread-safe: the queue is behind a condition lock; ``receive(_:)`` runs on the engine thread
/// and ``next()`` on the consumer's.
public final class EngineEventQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var events: [EngineEvent] = []
    private var head = 0

    /// Creates an empty queue.
    public init() {}

    /// Queues one event and wakes the consumer (the engine's sink).
    public func receive(_ event: EngineEvent) {
        condition.lock()
        events.append(event)
        condition.signal()
        condition.unlock()
    }

    /// The oldest event not taken yet, waiting for one when there is none.
    public func next() -> EngineEvent {
        condition.lock()
        defer { condition.unlock() }
        while head == events.count { condition.wait() }
        let event = events[head]
        head += 1
        if head == events.count {
            // Keep the storage: a steady stream of tokens then queues without allocating.
            events.removeAll(keepingCapacity: true)
            head = 0
        }
        return event
    }

    /// Submits `request` to `engine`, whose sink must be this queue's ``receive(_:)`` and which
    /// must have no other request in flight, and waits for it to finish. `onToken` sees each
    /// token on the calling thread as soon as the engine emits it; when it throws, the request is
    /// aborted and its remaining events taken before the error is rethrown.
    /// - Returns: the request's tokens, log-probabilities, finish reason and usage.
    /// - Throws: ``EngineError`` when the engine no longer accepts requests.
    public func run(
        _ request: EngineRequest, on engine: EngineLoop, onToken: (_ tokenID: Int32) throws -> Void = { _ in }
    ) throws -> CollectedOutput {
        try engine.submit(request)
        var output = CollectedOutput()
        while true {
            switch next() {
            case .token(let id, let token, _, let logprobs):
                precondition(id == request.id, "an event of request \(id) while running \(request.id) alone")
                output.tokenIDs.append(token)
                if let logprobs { output.logprobs.append(logprobs) }
                do {
                    try onToken(token)
                } catch {
                    engine.abort(request.id)
                    while case .token = next() {}
                    throw error
                }
            case .finished(let id, let reason, let usage):
                precondition(id == request.id, "an event of request \(id) while running \(request.id) alone")
                output.reason = reason
                output.usage = usage
                return output
            }
        }
    }
}
