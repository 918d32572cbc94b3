// RadixServe: running a blocking test step without holding a thread of the cooperative pool.

import Foundation

/// Runs blocking `body` (a socket receive, a wait on a process) on a thread of its own and
/// awaits its result.
///
/// Swift's cooperative pool has one thread per core, two on the CI machines, and long CPU-bound
/// tests hold them for minutes. A test that blocks a pool thread while the code it waits for
/// needs a pool thread to make progress (an `async let` child task, for instance) can deadlock
/// until a timeout; on a thread of its own it cannot.
/// - Parameter body: called once, on the new thread; `unchecked` because test fixtures such as
///   fake workers are confined to their test, not `Sendable`.
package func onOwnThread<T>(_ body: @escaping () throws -> T) async throws -> T {
    let box = UncheckedTransfer(body)
    let result: UncheckedTransfer<T> = try await withCheckedThrowingContinuation { continuation in
        let resume = UncheckedTransfer(continuation)
        Thread { resume.value.resume(with: Result { UncheckedTransfer(try box.value()) }) }.start()
    }
    return result.value
}

/// Moves a value across a thread boundary the type system cannot see is safe.
private struct UncheckedTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
