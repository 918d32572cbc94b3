// A loopback HTTP server whose answers are scripted byte by byte, for client tests.
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An HTTP/1.1 server on `127.0.0.1` (ephemeral port) that answers each request with the steps its
/// handler returns: raw bytes (split wherever the test likes), pauses, a stall, then a close.
///
/// An accept thread hands each connection to its own thread, which reads one request (head and
/// `Content-Length` body), records it, runs the handler's steps and closes the connection.
/// ``stop()`` ends the accept loop, wakes stalled connections and waits for every thread; call it
/// (e.g. in a `defer`): the accept thread keeps the server alive until then.
public final class ScriptedHTTPServer: Sendable {
    /// One received request.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        /// Header names lowercased.
        public var headers: [String: String]
        public var body: Data

        /// The body parsed as a JSON object, if it is one.
        public var jsonObject: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        }
    }

    /// What the server does next on a connection.
    public enum Step: Sendable {
        /// Writes these bytes (one `send` per step, so each step is a separate TCP segment in practice).
        case send([UInt8])
        /// Waits, then goes on.
        case pause(Duration)
        /// Keeps the connection open without sending until ``ScriptedHTTPServer/stop()``.
        case stall
    }

    /// The listening port.
    public let port: Int
    /// `http://127.0.0.1:PORT`.
    public var url: String { "http://127.0.0.1:\(port)" }

    private let listener: Int32
    private let handler: @Sendable (Request) -> [Step]
    private let state = Mutex(State())
    private let threads = DispatchGroup()

    private struct State {
        var isStopped = false
        var requests: [Request] = []
    }

    /// Starts listening; `handler` runs on the connection's thread and may be called concurrently.
    public init(handler: @escaping @Sendable (Request) -> [Step]) throws {
        let descriptor = socket(AF_INET, Self.streamType, 0)
        guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let isBound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && listen(descriptor, 64) == 0
                    && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard isBound else {
            close(descriptor)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        listener = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
        self.handler = handler
        threads.enter()
        Thread { [self] in
            defer { threads.leave() }
            acceptLoop()
        }.start()
    }

    /// Every request received so far, in arrival order.
    public var requests: [Request] { state.withLock { $0.requests } }

    /// Stops accepting, releases stalled connections and waits for all server threads. Idempotent.
    public func stop() {
        let wasStopped = state.withLock { state in
            defer { state.isStopped = true }
            return state.isStopped
        }
        guard !wasStopped else { return }
        threads.wait()
        close(listener)
    }

    /// A port on 127.0.0.1 that nothing listens on (bound, then released).
    public static func unusedPort() throws -> Int {
        let server = try ScriptedHTTPServer { _ in [] }
        server.stop()
        return server.port
    }

    // MARK: - Private

    private var isStopped: Bool { state.withLock { $0.isStopped } }

    private func acceptLoop() {
        while !isStopped {
            var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 20) > 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            threads.enter()
            Thread { [self] in
                defer {
                    close(connection)
                    threads.leave()
                }
                serve(connection)
            }.start()
        }
    }

    private func serve(_ connection: Int32) {
        guard let request = readRequest(connection) else { return }
        state.withLock { $0.requests.append(request) }
        for step in handler(request) {
            switch step {
            case .send(let bytes):
                let isSent = bytes.withUnsafeBytes { buffer in
                    buffer.isEmpty || send(connection, buffer.baseAddress, buffer.count, Self.sendFlags) == buffer.count
                }
                if !isSent { return }
            case .pause(let duration):
                let end = ContinuousClock.now + duration
                while ContinuousClock.now < end && !isStopped { usleep(2_000) }
            case .stall:
                while !isStopped { usleep(5_000) }
            }
            if isStopped { return }
        }
    }

    /// Reads the head and a `Content-Length` body; nil if the client went away first.
    private func readRequest(_ connection: Int32) -> Request? {
        var bytes: [UInt8] = []
        var headEnd: Int?
        var bodyLength = 0
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while headEnd.map({ bytes.count < $0 + bodyLength }) ?? true {
            var entry = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 5_000) > 0 else { return nil }
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            bytes += buffer[0..<count]
            if headEnd == nil, let range = bytes.firstRange(of: Array("\r\n\r\n".utf8)) {
                headEnd = range.upperBound
                let head = String(decoding: bytes[..<range.lowerBound], as: UTF8.self)
                bodyLength = Self.headers(of: head)["content-length"].flatMap { Int($0) } ?? 0
            }
        }
        guard let headEnd else { return nil }
        let head = String(decoding: bytes[..<(headEnd - 4)], as: UTF8.self)
        let requestLine = head.prefix { $0 != "\r" }.split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        return Request(
            method: String(requestLine[0]), path: String(requestLine[1]), headers: Self.headers(of: head),
            body: Data(bytes[headEnd..<(headEnd + bodyLength)]))
    }

    private static func headers(of head: String) -> [String: String] {
        var headers: [String: String] = [:]
        for line in head.components(separatedBy: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return headers
    }

    #if canImport(Glibc)
    private static let streamType = Int32(SOCK_STREAM.rawValue)
    private static let sendFlags = Int32(MSG_NOSIGNAL)
    #else
    private static let streamType = SOCK_STREAM
    private static let sendFlags: Int32 = 0
    #endif
}
