// RadixServe: waking async waiters when some published state may have changed.

import Synchronization

/// A version counter that async code waits on instead of polling: publishers call ``notify()``
/// after changing state others watch (an engine step's load, a worker's registration, a child's
/// exit, a signal); a waiter reads ``version``, checks the state, and if it must wait calls
/// ``wait(after:)`` with the version it read, so a change between the check and the wait is
/// never missed.
///
/// Thread-safe: the counter and the waiting continuations are behind one mutex; ``notify()`` is
/// cheap enough to call from an engine step.
public final class ChangeSignal: Sendable {
    private struct State {
        var version: UInt64 = 0
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// Creates a signal at version 0.
    public init() {}

    /// The number of ``notify()`` calls so far.
    public var version: UInt64 { state.withLock { $0.version } }

    /// Bumps the version and resumes every waiter.
    public func notify() {
        let waiters: [CheckedContinuation<Void, Never>]? = state.withLock { state in
            state.version &+= 1
            guard !state.waiters.isEmpty else { return nil }
            defer { state.waiters.removeAll(keepingCapacity: true) }
            return Array(state.waiters.values)
        }
        for waiter in waiters ?? [] { waiter.resume() }
    }

    /// Returns once the version differs from `version` (at once if it already does), or when the
    /// task is cancelled.
    public func wait(after version: UInt64) async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.version != version || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Waits until `condition` returns a value, rechecking it after every change; returns `nil`
    /// when `deadline` passes first or the task is cancelled.
    public func wait<Value>(
        until deadline: ContinuousClock.Instant? = nil, for condition: () -> Value?
    ) async -> Value? {
        let timer = deadline.map { deadline in
            Task { [self] in
                try? await Task.sleep(until: deadline, clock: .continuous)
                notify()
            }
        }
        defer { timer?.cancel() }
        while true {
            let seen = version
            if let value = condition() { return value }
            if Task.isCancelled { return nil }
            if let deadline, ContinuousClock.now >= deadline { return nil }
            await wait(after: seen)
        }
    }
}
