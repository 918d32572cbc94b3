// RadixServe: gathers engine events into whole results (CLI, benchmarks, tests).

import Foundation
import Scheduling
import ServingTypes

/// Everything an engine produced for one request.
public struct CollectedOutput: Sendable, Hashable {
    /// Generated tokens in order.
    public var tokenIDs: [Int32] = []
    /// Per-token log-probabilities, for requests that asked.
    public var logprobs: [TokenLogprobs] = []
    /// Set once finished.
    public var reason: FinishReason?
    /// Set once finished.
    public var usage: EngineUsage?
    /// Events that broke the contract (a token after finish, an index gap); empty when sound.
    public var violations: [String] = []
}

/// A sink that accumulates events per request and lets another thread wait for finishes.
///
/// Thread-safe: all state is behind a condition lock. Use ``receive(_:)`` as the engine's sink.
public final class EventCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var outputs: [RequestID: CollectedOutput] = [:]
    private var finishedCount = 0
    private let onEvent: (@Sendable (EngineEvent) -> Void)?

    /// Creates an empty collector; `onEvent` (optional) also sees every event, on the engine thread.
    public init(onEvent: (@Sendable (EngineEvent) -> Void)? = nil) {
        self.onEvent = onEvent
    }

    /// Records one event (the engine's sink).
    public func receive(_ event: EngineEvent) {
        condition.lock()
        switch event {
        case .token(let id, let token, let index, let logprobs):
            var output = outputs[id, default: CollectedOutput()]
            if output.reason != nil { output.violations.append("token after finish") }
            if index != output.tokenIDs.count { output.violations.append("token index \(index), expected \(output.tokenIDs.count)") }
            output.tokenIDs.append(token)
            if let logprobs { output.logprobs.append(logprobs) }
            outputs[id] = output
        case .finished(let id, let reason, let usage):
            var output = outputs[id, default: CollectedOutput()]
            if output.reason != nil { output.violations.append("second finish") }
            output.reason = reason
            output.usage = usage
            outputs[id] = output
            finishedCount += 1
            condition.broadcast()
        }
        condition.unlock()
        onEvent?(event)
    }

    /// Blocks until `count` finish events have arrived in total, or `timeout` passes.
    /// Returns false on timeout.
    @discardableResult
    public func waitForFinishes(_ count: Int, timeout: Duration = .seconds(600)) -> Bool {
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds))
        condition.lock()
        defer { condition.unlock() }
        while finishedCount < count {
            if !condition.wait(until: deadline) { return finishedCount >= count }
        }
        return true
    }

    /// Finish events received so far.
    public var finishes: Int {
        condition.lock()
        defer { condition.unlock() }
        return finishedCount
    }

    /// The output of `id` so far (empty when nothing arrived yet).
    public func output(_ id: RequestID) -> CollectedOutput {
        condition.lock()
        defer { condition.unlock() }
        return outputs[id] ?? CollectedOutput()
    }

    /// Forgets everything (keeping nothing in flight is the caller's job).
    public func reset() {
        condition.lock()
        outputs = [:]
        finishedCount = 0
        condition.unlock()
    }
}

extension EventCollector {
    /// Submits every request to `engine` (whose sink is this collector's ``receive(_:)``) at once,
    /// waits until all of them finished, and returns their outputs in request order.
    /// - Throws: ``EngineError`` when the engine no longer accepts requests.
    public func run(_ requests: [EngineRequest], on engine: EngineLoop) throws -> [CollectedOutput] {
        let before = finishes
        for request in requests { try engine.submit(request) }
        waitForFinishes(before + requests.count)
        return requests.map { output($0.id) }
    }
}
