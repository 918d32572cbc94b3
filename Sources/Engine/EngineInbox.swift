// RadixServe: the engine thread's command queue.
// Pattern of llama.cpp tools/server/server-queue.h: post from any thread, drain all at once.

import Foundation
import KVPaging
import Scheduling
import ServingTypes

/// A message to the engine thread.
enum EngineCommand: Sendable {
    /// Queue a request.
    case add(EngineRequest)
    /// Abort a live request (ignored when unknown or already finished).
    case abort(RequestID)
    /// Drop the prefix cache; `completion` receives false when running requests hold locks.
    case flushCache(completion: @Sendable (Bool) -> Void)
    /// Publish pending cache events, then list the cached chains (`nil`: the engine stopped).
    case snapshotCache(completion: @Sendable ([CachedChain]?) -> Void)
    /// Finish every live request with an error and stop the loop.
    case shutdown
}

/// A closable multi-producer queue of commands with a wakeup for the single consumer.
///
/// Thread-safe: every member takes the condition's lock. Once closed (by posting
/// `.shutdown` through ``close(with:)``), ``post(_:)`` refuses further commands, so every
/// accepted command is seen by the consumer before it stops.
final class EngineInbox: @unchecked Sendable {
    private let condition = NSCondition()
    private var commands: [EngineCommand] = []
    private var isClosed = false

    /// Appends a command and wakes the consumer. Returns false (dropping it) once closed.
    func post(_ command: EngineCommand) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !isClosed else { return false }
        commands.append(command)
        condition.signal()
        return true
    }

    /// Posts `command` as the last command ever accepted. Returns false when already closed.
    func close(with command: EngineCommand) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !isClosed else { return false }
        commands.append(command)
        isClosed = true
        condition.signal()
        return true
    }

    /// Takes every queued command, oldest first; with `waitingIfEmpty`, blocks until one arrives
    /// or `timeout` (if any) passes, and then returns what there is (possibly nothing).
    func drain(waitingIfEmpty: Bool, timeout: Duration? = nil) -> [EngineCommand] {
        var drained: [EngineCommand] = []
        drain(into: &drained, waitingIfEmpty: waitingIfEmpty, timeout: timeout)
        return drained
    }

    /// ``drain(waitingIfEmpty:timeout:)`` into `buffer` (emptied first), trading storage with the
    /// queue: a loop that keeps its buffer allocates nothing once both have grown.
    func drain(into buffer: inout [EngineCommand], waitingIfEmpty: Bool, timeout: Duration? = nil) {
        buffer.removeAll(keepingCapacity: true)
        condition.lock()
        defer { condition.unlock() }
        if waitingIfEmpty, let timeout {
            let deadline = Date().addingTimeInterval(timeout.seconds)
            while commands.isEmpty && condition.wait(until: deadline) {}
        } else {
            while waitingIfEmpty && commands.isEmpty { condition.wait() }
        }
        swap(&buffer, &commands)
    }
}
