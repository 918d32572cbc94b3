// A blocking TCP client socket with timeouts, over POSIX calls.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One TCP connection to a server, IPv4 only.
///
/// The descriptor is non-blocking underneath; every call waits with `poll` up to its timeout, so
/// a silent server produces ``ServingClientError/Code/timedOut`` instead of a hang. `EINTR` is
/// retried. Writes never raise `SIGPIPE`.
///
/// Not thread-safe: use from one thread at a time. Closed by ``close()`` or on deinit.
package final class SocketConnection {
    private var descriptor: Int32
    /// The server, for error messages.
    package let url: ServingURL

    /// Resolves `url.host` (IPv4) and connects to the first address that accepts within `timeout`
    /// (the budget is shared by all addresses).
    package init(url: ServingURL, timeout: Duration) throws {
        self.url = url
        let deadline = ContinuousClock.now + timeout
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Self.streamType
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(url.host, String(url.port), &hints, &list)
        guard status == 0, let list else {
            throw ServingClientError.connectionFailed(
                "could not connect to \(url): cannot resolve '\(url.host)' (\(String(cString: gai_strerror(status))))")
        }
        defer { freeaddrinfo(list) }
        var lastError = ServingClientError.connectionFailed("could not connect to \(url): no IPv4 address")
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let address = entry {
            entry = address.pointee.ai_next
            do {
                descriptor = try Self.connect(address.pointee, url: url, deadline: deadline)
                return
            } catch let error as ServingClientError {
                lastError = error
                if error.code == .timedOut { break }
            }
        }
        throw lastError
    }

    deinit { close() }

    /// Closes the socket; later calls fail. Idempotent.
    package func close() {
        if descriptor >= 0 {
            _ = systemClose(descriptor)
            descriptor = -1
        }
    }

    /// Sends all of `bytes`, waiting up to `timeout` for the socket to accept each part.
    package func write(_ bytes: [UInt8], timeout: Duration) throws {
        var offset = 0
        while offset < bytes.count {
            try waitFor(Int16(POLLOUT), timeout: timeout, doing: "sending the request")
            let sent = bytes.withUnsafeBytes { buffer in
                send(descriptor, buffer.baseAddress! + offset, buffer.count - offset, Self.sendFlags)
            }
            if sent >= 0 {
                offset += sent
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                throw ServingClientError.connectionClosed(
                    "the connection to \(url) failed while sending the request: \(Self.errorText(errno))")
            }
        }
    }

    /// Reads what has arrived (at most `buffer.count` bytes), waiting up to `timeout` for the
    /// first byte. Returns 0 when the server has closed the connection.
    package func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration) throws -> Int {
        while true {
            try waitFor(Int16(POLLIN), timeout: timeout, doing: "waiting for the response")
            let count = recv(descriptor, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return count }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
            throw ServingClientError.connectionClosed(
                "the connection to \(url) failed while reading the response: \(Self.errorText(errno))")
        }
    }

    // MARK: - Private

    private func waitFor(_ events: Int16, timeout: Duration, doing activity: String) throws {
        guard descriptor >= 0 else { throw ServingClientError.connectionClosed("the connection to \(url) is closed") }
        let deadline = ContinuousClock.now + timeout
        guard try Self.poll(descriptor, events: events, deadline: deadline) else {
            throw ServingClientError.timedOut(
                "timed out after \(Self.secondsText(timeout)) \(activity) from \(url)")
        }
    }

    /// Waits until `events` are ready or `deadline` passes; `false` on timeout. Errors and hang-ups
    /// count as ready, so the following call reports them.
    private static func poll(_ descriptor: Int32, events: Int16, deadline: ContinuousClock.Instant) throws -> Bool {
        while true {
            let remaining = deadline - .now
            let components = remaining.components
            // Rounded up, so a wait never ends a fraction of a millisecond before the deadline.
            let rounded = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 + 1
            let milliseconds = max(0, min(Int64(Int32.max), rounded))
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = systemPoll(&entry, 1, remaining <= .zero ? 0 : Int32(milliseconds))
            if ready > 0 { return true }
            if ready == 0 { return false }
            if errno != EINTR { throw ServingClientError.connectionClosed("poll failed: \(errorText(errno))") }
        }
    }

    private static func connect(_ address: addrinfo, url: ServingURL, deadline: ContinuousClock.Instant) throws -> Int32 {
        let descriptor = socket(address.ai_family, streamType | Self.closeOnExec, address.ai_protocol)
        guard descriptor >= 0 else {
            throw ServingClientError.connectionFailed("could not connect to \(url): socket: \(errorText(errno))")
        }
        var isConnected = false
        defer { if !isConnected { _ = systemClose(descriptor) } }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL, 0) | O_NONBLOCK)
        var noDelay: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        #if canImport(Darwin)
        var noSignal: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &noSignal, socklen_t(MemoryLayout<Int32>.size))
        #endif

        if systemConnect(descriptor, address.ai_addr, address.ai_addrlen) != 0 {
            guard errno == EINPROGRESS || errno == EINTR else {
                throw ServingClientError.connectionFailed("could not connect to \(url): \(errorText(errno))")
            }
            guard try poll(descriptor, events: Int16(POLLOUT), deadline: deadline) else {
                throw ServingClientError.timedOut("timed out connecting to \(url)")
            }
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &length)
            guard failure == 0 else {
                throw ServingClientError.connectionFailed("could not connect to \(url): \(errorText(failure))")
            }
        }
        isConnected = true
        return descriptor
    }

    private static func errorText(_ number: Int32) -> String {
        number == ECONNREFUSED ? "connection refused" : String(cString: strerror(number))
    }

    private static func secondsText(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return seconds.rounded() == seconds ? "\(Int(seconds)) s" : "\(seconds) s"
    }

    #if canImport(Glibc)
    private static let streamType = Int32(SOCK_STREAM.rawValue)
    private static let closeOnExec = Int32(SOCK_CLOEXEC.rawValue)
    private static let sendFlags = Int32(MSG_NOSIGNAL)
    #else
    private static let streamType = SOCK_STREAM
    private static let closeOnExec: Int32 = 0
    private static let sendFlags: Int32 = 0
    #endif
}

// The C names, reachable inside a type that declares members of the same names.
private func systemClose(_ descriptor: Int32) -> Int32 { close(descriptor) }
private func systemPoll(_ entries: UnsafeMutablePointer<pollfd>, _ count: nfds_t, _ timeout: Int32) -> Int32 {
    poll(entries, count, timeout)
}
private func systemConnect(_ descriptor: Int32, _ address: UnsafeMutablePointer<sockaddr>!, _ length: socklen_t) -> Int32 {
    connect(descriptor, address, length)
}
