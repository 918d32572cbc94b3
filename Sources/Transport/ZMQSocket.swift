// A libzmq socket confined to one thread.
import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One libzmq socket.
///
/// Not thread-safe and not `Sendable`: libzmq sockets must be used by one thread at a time, so
/// create, use and drop a socket on the same thread. The socket is closed in `deinit` (or by
/// ``close()``) with the linger set by ``setLingerOnClose(_:)``, zero by default, so closing never
/// waits for unsent messages. Every blocking call takes an optional per-call `timeout`; `nil`
/// means the socket default set by ``setDefaultTimeouts(send:receive:)`` (infinite unless set),
/// and `.zero` means "do not block".
public final class ZMQSocket {
    /// The messaging pattern of a socket (`ZMQ_PAIR`, `ZMQ_ROUTER`, …).
    public enum Kind: Sendable, CaseIterable {
        case pair, publisher, subscriber, request, reply, dealer, router, pull, push

        var rawValue: Int32 {
            switch self {
            case .pair: ZMQ_PAIR
            case .publisher: ZMQ_PUB
            case .subscriber: ZMQ_SUB
            case .request: ZMQ_REQ
            case .reply: ZMQ_REP
            case .dealer: ZMQ_DEALER
            case .router: ZMQ_ROUTER
            case .pull: ZMQ_PULL
            case .push: ZMQ_PUSH
            }
        }
    }

    /// The pattern this socket was created with.
    public let kind: Kind
    /// The context that owns this socket's I/O; kept alive until the socket is closed.
    public let context: ZMQContext

    /// `nil` once closed.
    var handle: UnsafeMutableRawPointer?
    var lingerOnCloseMilliseconds: Int32 = 0
    var defaultSendTimeoutMilliseconds: Int32 = -1
    var defaultReceiveTimeoutMilliseconds: Int32 = -1
    // The values currently applied in libzmq, so a per-call timeout costs a setsockopt only on change.
    var appliedSendTimeoutMilliseconds: Int32 = -1
    var appliedReceiveTimeoutMilliseconds: Int32 = -1
    /// `ipc://` endpoints bound by this socket; unbound on close so their socket files go away.
    var boundIPCEndpoints: [String] = []

    /// Creates a socket of `kind` in `context`.
    public init(_ kind: Kind, context: ZMQContext) throws {
        guard let handle = zmq_socket(context.handle, kind.rawValue) else {
            throw TransportError.fromErrno(zmq_errno(), "zmq_socket(\(kind))")
        }
        self.kind = kind
        self.context = context
        self.handle = handle
    }

    deinit { close() }

    /// Whether ``close()`` has run.
    public var isClosed: Bool { handle == nil }

    /// Closes the socket after applying the linger from ``setLingerOnClose(_:)`` and removes the
    /// socket files of the `ipc://` endpoints it bound. Idempotent.
    public func close() {
        guard let handle else { return }
        var linger = lingerOnCloseMilliseconds
        _ = zmq_setsockopt(handle, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
        zmq_close(handle)
        self.handle = nil
        // NOTE: libzmq 4.3 leaves the socket file of a named ipc endpoint behind on close, and
        // zmq_unbind before close can make zmq_ctx_term hang, so remove the file ourselves.
        for endpoint in boundIPCEndpoints { _ = unlink(String(endpoint.dropFirst("ipc://".count))) }
    }

    /// Binds to `endpoint` and returns the endpoint actually bound (`ZMQ_LAST_ENDPOINT`), which
    /// resolves wildcards: `tcp://127.0.0.1:*` → `tcp://127.0.0.1:41234`, `ipc://*` → a fresh path.
    @discardableResult
    public func bind(_ endpoint: String) throws -> String {
        let handle = try liveHandle("bind(\(endpoint))")
        guard zmq_bind(handle, endpoint) == 0 else {
            throw TransportError.fromErrno(zmq_errno(), "bind(\(endpoint))")
        }
        let bound = try lastEndpoint()
        if bound.hasPrefix("ipc://") { boundIPCEndpoints.append(bound) }
        return bound
    }

    /// Starts connecting to `endpoint` (asynchronously; messages queue until the peer is up unless
    /// ``setImmediate(_:)`` is on) and returns the normalised endpoint.
    @discardableResult
    public func connect(_ endpoint: String) throws -> String {
        let handle = try liveHandle("connect(\(endpoint))")
        guard zmq_connect(handle, endpoint) == 0 else {
            throw TransportError.fromErrno(zmq_errno(), "connect(\(endpoint))")
        }
        return try lastEndpoint()
    }

    /// Undoes a ``connect(_:)``.
    public func disconnect(_ endpoint: String) throws {
        let handle = try liveHandle("disconnect(\(endpoint))")
        guard zmq_disconnect(handle, endpoint) == 0 else {
            throw TransportError.fromErrno(zmq_errno(), "disconnect(\(endpoint))")
        }
    }

    /// Undoes a ``bind(_:)``; pass the endpoint returned by `bind`.
    public func unbind(_ endpoint: String) throws {
        let handle = try liveHandle("unbind(\(endpoint))")
        guard zmq_unbind(handle, endpoint) == 0 else {
            throw TransportError.fromErrno(zmq_errno(), "unbind(\(endpoint))")
        }
        boundIPCEndpoints.removeAll { $0 == endpoint }
    }

    /// The endpoint of the last bind or connect (`ZMQ_LAST_ENDPOINT`).
    public func lastEndpoint() throws -> String {
        try stringOption(ZMQ_LAST_ENDPOINT, name: "ZMQ_LAST_ENDPOINT")
    }

    func liveHandle(_ operation: @autoclosure () -> String) throws -> UnsafeMutableRawPointer {
        guard let handle else { throw TransportError.closed(operation()) }
        return handle
    }
}

@available(*, unavailable, message: "a ZMQSocket must stay on the thread that uses it")
extension ZMQSocket: Sendable {}

extension Duration {
    /// Milliseconds for libzmq timeouts, rounded up so a short positive timeout never becomes
    /// "do not block"; negative durations clamp to zero.
    var zmqMilliseconds: Int32 {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }
}
