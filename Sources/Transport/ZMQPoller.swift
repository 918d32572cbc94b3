// zmq_poll over several sockets.
import CZeroMQ

/// Readiness conditions for ``ZMQPoller``.
public struct ZMQPollEvents: OptionSet, Hashable, Sendable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// At least one message can be received without blocking.
    public static let readable = ZMQPollEvents(rawValue: Int16(ZMQ_POLLIN))
    /// At least one message can be sent without blocking.
    public static let writable = ZMQPollEvents(rawValue: Int16(ZMQ_POLLOUT))
}

/// Waits until one of several sockets is ready.
///
/// Not thread-safe: use it on the thread that owns the registered sockets. The poller keeps the
/// sockets alive and reuses one item array, so ``poll(timeout:)`` does not allocate.
public final class ZMQPoller {
    private var sockets: [ZMQSocket] = []
    private var items: [zmq_pollitem_t] = []

    /// Creates an empty poller.
    public init() {}

    /// Number of registered sockets.
    public var count: Int { sockets.count }

    /// Registers `socket` for `events` and returns its index for ``returnedEvents(at:)``.
    @discardableResult
    public func register(_ socket: ZMQSocket, for events: ZMQPollEvents = .readable) -> Int {
        precondition(!socket.isClosed, "cannot poll a closed socket")
        sockets.append(socket)
        items.append(zmq_pollitem_t(socket: socket.handle, fd: 0, events: events.rawValue, revents: 0))
        return items.count - 1
    }

    /// Waits up to `timeout` (`nil` = forever, `.zero` = just check) and returns how many sockets
    /// are ready; zero means the timeout expired. A signal (`EINTR`) ends the wait early with zero.
    public func poll(timeout: Duration?) throws -> Int {
        for index in sockets.indices where sockets[index].isClosed {
            throw TransportError.closed("poll(item \(index))")
        }
        let milliseconds = timeout.map { Int($0.zmqMilliseconds) } ?? -1
        let ready = items.withUnsafeMutableBufferPointer { buffer in
            zmq_poll(buffer.baseAddress, Int32(buffer.count), milliseconds)
        }
        if ready < 0 {
            let errorNumber = zmq_errno()
            if errorNumber == EINTR { return 0 }
            throw TransportError.fromErrno(errorNumber, "poll(\(items.count) sockets)")
        }
        return Int(ready)
    }

    /// The events found ready at `index` by the last ``poll(timeout:)``.
    public func returnedEvents(at index: Int) -> ZMQPollEvents {
        ZMQPollEvents(rawValue: items[index].revents)
    }

    /// Whether the socket at `index` was readable in the last ``poll(timeout:)``.
    public func isReadable(at index: Int) -> Bool { returnedEvents(at: index).contains(.readable) }
}
