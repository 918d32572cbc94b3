// Owner of a libzmq context (I/O threads and socket registry).
import CZeroMQ
import Foundation

/// A libzmq context: the I/O threads that move bytes for every socket created from it.
///
/// Thread-safe: libzmq documents contexts as safe to share between threads, so one context
/// may create sockets on many threads. Each ``ZMQSocket`` keeps its context alive, so the
/// context is terminated (`zmq_ctx_term`) only after all of its sockets were closed, which is
/// why ``deinit`` never blocks on an open socket.
public final class ZMQContext: @unchecked Sendable {
    // @unchecked Sendable: `handle` is immutable after init and libzmq's context API is thread-safe.
    let handle: UnsafeMutableRawPointer

    /// Creates a context with `ioThreadCount` I/O threads (one is plenty below ~1 GB/s).
    public init(ioThreadCount: Int = 1) throws {
        precondition(ioThreadCount >= 1, "ioThreadCount must be positive")
        guard let handle = zmq_ctx_new() else {
            throw TransportError.fromErrno(zmq_errno(), "zmq_ctx_new")
        }
        if zmq_ctx_set(handle, ZMQ_IO_THREADS, Int32(ioThreadCount)) != 0 {
            let error = TransportError.fromErrno(zmq_errno(), "zmq_ctx_set(ZMQ_IO_THREADS, \(ioThreadCount))")
            zmq_ctx_term(handle)
            throw error
        }
        self.handle = handle
    }

    /// Makes every blocking call on this context's sockets fail with
    /// ``TransportError/Code-swift.struct/contextTerminated``. Safe from any thread; idempotent.
    public func shutdown() {
        _ = zmq_ctx_shutdown(handle)
    }

    /// Terminates the context on a separate thread and waits for it up to ``terminationWait``.
    /// Termination is what flushes messages still queued on sockets closed with a linger (a rank's
    /// last hello or abort before its process exits), so it is waited for. Every socket is closed by
    /// now (each one retains its context), but libzmq 4.3's `zmq_ctx_term` has been seen to wait
    /// forever for its reaper even then (rarely, under load, after `ipc://` traffic); past the bound
    /// the thread is left behind and only the context leaks.
    deinit {
        let handle = UInt(bitPattern: handle)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            guard let pointer = UnsafeMutableRawPointer(bitPattern: handle) else { return }
            while zmq_ctx_term(pointer) != 0 && zmq_errno() == EINTR {}
        }
        thread.start()
        _ = done.wait(timeout: .now() + Self.terminationWait)
    }

    /// Longest a dropped context waits for its termination (longer than any linger the project sets).
    static let terminationWait: DispatchTimeInterval = .seconds(4)
}
