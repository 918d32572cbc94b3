// Socket options (zmq_setsockopt / zmq_getsockopt).
import CZeroMQ

extension ZMQSocket {
    /// Linger applied by ``close()``: how long unsent messages may delay context termination.
    /// Default zero (drop them). Use a short linger only for a final "goodbye" message.
    public func setLingerOnClose(_ linger: Duration) {
        lingerOnCloseMilliseconds = linger.zmqMilliseconds
    }

    /// Socket-wide timeouts used when a call passes no `timeout`; `nil` means block forever.
    public func setDefaultTimeouts(send: Duration?, receive: Duration?) {
        defaultSendTimeoutMilliseconds = send?.zmqMilliseconds ?? -1
        defaultReceiveTimeoutMilliseconds = receive?.zmqMilliseconds ?? -1
    }

    /// Maximum number of queued outgoing messages per peer (`ZMQ_SNDHWM`, default 1000).
    public func setSendHighWaterMark(_ messageCount: Int) throws {
        try setOption(ZMQ_SNDHWM, Int32(clamping: messageCount), name: "ZMQ_SNDHWM")
    }

    /// Maximum number of queued incoming messages per peer (`ZMQ_RCVHWM`, default 1000).
    public func setReceiveHighWaterMark(_ messageCount: Int) throws {
        try setOption(ZMQ_RCVHWM, Int32(clamping: messageCount), name: "ZMQ_RCVHWM")
    }

    /// ROUTER only: fail sends to unknown identities with `.unroutable` instead of dropping them.
    public func setRouterMandatory(_ isOn: Bool) throws {
        try setOption(ZMQ_ROUTER_MANDATORY, isOn ? 1 : 0, name: "ZMQ_ROUTER_MANDATORY")
    }

    /// Queue messages only to completed connections (`ZMQ_IMMEDIATE`).
    public func setImmediate(_ isOn: Bool) throws {
        try setOption(ZMQ_IMMEDIATE, isOn ? 1 : 0, name: "ZMQ_IMMEDIATE")
    }

    /// Drops (and disconnects) peers that send a frame larger than `byteCount`; `nil` = unlimited.
    public func setMaxMessageSize(_ byteCount: Int?) throws {
        var value = Int64(byteCount ?? -1)
        try setRaw(ZMQ_MAXMSGSIZE, &value, MemoryLayout<Int64>.size, name: "ZMQ_MAXMSGSIZE")
    }

    /// TCP keepalive for half-open connection detection; `nil` fields keep the OS default.
    public func setTCPKeepAlive(idle: Duration? = nil, interval: Duration? = nil, probeCount: Int? = nil) throws {
        try setOption(ZMQ_TCP_KEEPALIVE, 1, name: "ZMQ_TCP_KEEPALIVE")
        if let idle { try setOption(ZMQ_TCP_KEEPALIVE_IDLE, max(1, idle.zmqMilliseconds / 1000), name: "IDLE") }
        if let interval {
            try setOption(ZMQ_TCP_KEEPALIVE_INTVL, max(1, interval.zmqMilliseconds / 1000), name: "INTVL")
        }
        if let probeCount { try setOption(ZMQ_TCP_KEEPALIVE_CNT, Int32(clamping: probeCount), name: "CNT") }
    }

    /// ZMTP heartbeats: ping every `interval`, drop the connection after `timeout` without traffic.
    public func setHeartbeat(interval: Duration, timeout: Duration) throws {
        try setOption(ZMQ_HEARTBEAT_IVL, interval.zmqMilliseconds, name: "ZMQ_HEARTBEAT_IVL")
        try setOption(ZMQ_HEARTBEAT_TIMEOUT, timeout.zmqMilliseconds, name: "ZMQ_HEARTBEAT_TIMEOUT")
        try setOption(ZMQ_HEARTBEAT_TTL, timeout.zmqMilliseconds, name: "ZMQ_HEARTBEAT_TTL")
    }

    /// Interval between reconnection attempts of a connecting socket (`ZMQ_RECONNECT_IVL`, default 100 ms).
    public func setReconnectInterval(_ interval: Duration) throws {
        try setOption(ZMQ_RECONNECT_IVL, max(1, interval.zmqMilliseconds), name: "ZMQ_RECONNECT_IVL")
    }

    /// The identity a ROUTER peer sees for this socket (`ZMQ_ROUTING_ID`, 1…255 bytes). Set before connect.
    public func setRoutingID(_ identity: [UInt8]) throws {
        precondition((1...255).contains(identity.count), "routing ids are 1...255 bytes")
        try identity.withUnsafeBytes { try setRaw(ZMQ_ROUTING_ID, $0.baseAddress, $0.count, name: "ZMQ_ROUTING_ID") }
    }

    /// ROUTER only: the routing id this socket gives the peer of its next `connect`
    /// (`ZMQ_CONNECT_ROUTING_ID`, 1…255 bytes, not starting with a zero byte), instead of the id
    /// the peer announces. It stays that connection's id across reconnects. Must not equal the
    /// id of any current peer (libzmq asserts on a duplicate): make it unguessable.
    public func setConnectRoutingID(_ identity: [UInt8]) throws {
        precondition((1...255).contains(identity.count) && identity[0] != 0, "connect routing ids are 1...255 bytes, not starting with 0")
        try identity.withUnsafeBytes {
            try setRaw(ZMQ_CONNECT_ROUTING_ID, $0.baseAddress, $0.count, name: "ZMQ_CONNECT_ROUTING_ID")
        }
    }

    /// SUB only: receive messages whose first frame starts with `prefix` (empty = everything).
    public func subscribe(_ prefix: [UInt8] = []) throws {
        try prefix.withUnsafeBytes { try setRaw(ZMQ_SUBSCRIBE, $0.baseAddress, $0.count, name: "ZMQ_SUBSCRIBE") }
    }

    /// SUB only: undoes ``subscribe(_:)``.
    public func unsubscribe(_ prefix: [UInt8] = []) throws {
        try prefix.withUnsafeBytes { try setRaw(ZMQ_UNSUBSCRIBE, $0.baseAddress, $0.count, name: "ZMQ_UNSUBSCRIBE") }
    }

    /// Makes this socket a CURVE server with the given Z85 secret key. Set before bind.
    public func setCurveServer(secretKey: String) throws {
        try setOption(ZMQ_CURVE_SERVER, 1, name: "ZMQ_CURVE_SERVER")
        try setString(ZMQ_CURVE_SECRETKEY, secretKey, name: "ZMQ_CURVE_SECRETKEY")
    }

    /// Makes this socket a CURVE client of the server with `serverPublicKey`. Set before connect.
    public func setCurveClient(serverPublicKey: String, keyPair: CurveKeyPair) throws {
        try setString(ZMQ_CURVE_SERVERKEY, serverPublicKey, name: "ZMQ_CURVE_SERVERKEY")
        try setString(ZMQ_CURVE_PUBLICKEY, keyPair.publicKey, name: "ZMQ_CURVE_PUBLICKEY")
        try setString(ZMQ_CURVE_SECRETKEY, keyPair.secretKey, name: "ZMQ_CURVE_SECRETKEY")
    }

    /// Whether the last received frame has more frames after it (`ZMQ_RCVMORE`).
    public var hasMoreFrames: Bool {
        guard let handle else { return false }
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        return zmq_getsockopt(handle, ZMQ_RCVMORE, &value, &size) == 0 && value != 0
    }

    /// Whether a frame can be received without blocking (`ZMQ_EVENTS` has `ZMQ_POLLIN`). Reading the
    /// option also processes the socket's pending internal commands; it makes no system call when
    /// none are pending.
    public var isReadable: Bool {
        guard let handle else { return false }
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        return zmq_getsockopt(handle, ZMQ_EVENTS, &value, &size) == 0 && value & Int32(ZMQ_POLLIN) != 0
    }

    // MARK: - Raw access

    /// Sets an integer option; for options without a typed setter.
    public func setOption(_ option: Int32, _ value: Int32, name: String? = nil) throws {
        var value = value
        try setRaw(option, &value, MemoryLayout<Int32>.size, name: name ?? "option \(option)")
    }

    /// Reads an integer option back (`zmq_getsockopt`), as libzmq holds it.
    public func option(_ option: Int32, name: String? = nil) throws -> Int32 {
        let handle = try liveHandle("getsockopt(\(name ?? "option \(option)"))")
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        guard zmq_getsockopt(handle, option, &value, &size) == 0 else {
            throw TransportError.fromErrno(zmq_errno(), "getsockopt(\(name ?? "option \(option)"))")
        }
        return value
    }

    func setString(_ option: Int32, _ value: String, name: String) throws {
        var bytes = Array(value.utf8)
        try setRaw(option, &bytes, bytes.count, name: name)
    }

    func setRaw(_ option: Int32, _ value: UnsafeRawPointer?, _ size: Int, name: String) throws {
        let handle = try liveHandle("setsockopt(\(name))")
        while zmq_setsockopt(handle, option, value, size) != 0 {
            let errorNumber = zmq_errno()
            if errorNumber != EINTR { throw TransportError.fromErrno(errorNumber, "setsockopt(\(name))") }
        }
    }

    func stringOption(_ option: Int32, name: String) throws -> String {
        let handle = try liveHandle("getsockopt(\(name))")
        var buffer = [UInt8](repeating: 0, count: 1024)
        var size = buffer.count
        guard zmq_getsockopt(handle, option, &buffer, &size) == 0 else {
            throw TransportError.fromErrno(zmq_errno(), "getsockopt(\(name))")
        }
        let end = buffer[..<size].firstIndex(of: 0) ?? size
        return String(decoding: buffer[..<end], as: UTF8.self)
    }

    /// Applies a per-call (or the default) timeout, touching libzmq only when the value changes.
    func applyTimeout(send: Bool, _ timeout: Duration?) throws {
        if send {
            let wanted = timeout?.zmqMilliseconds ?? defaultSendTimeoutMilliseconds
            guard wanted != appliedSendTimeoutMilliseconds else { return }
            try setOption(ZMQ_SNDTIMEO, wanted, name: "ZMQ_SNDTIMEO")
            appliedSendTimeoutMilliseconds = wanted
        } else {
            let wanted = timeout?.zmqMilliseconds ?? defaultReceiveTimeoutMilliseconds
            guard wanted != appliedReceiveTimeoutMilliseconds else { return }
            try setOption(ZMQ_RCVTIMEO, wanted, name: "ZMQ_RCVTIMEO")
            appliedReceiveTimeoutMilliseconds = wanted
        }
    }
}
