import Foundation

/// A small blocking HTTP/1.1 client for one server.
///
/// Each request opens its own connection and sends `Connection: close`, so a client value can be
/// shared by any number of threads (each call blocks only its caller). Request bodies go out with
/// `Content-Length`; responses may use `Content-Length`, `Transfer-Encoding: chunked`, or end at
/// connection close.
public struct HTTPClient: Sendable {
    /// The server's base URL; request paths are appended to its ``ServingURL/basePath``.
    public var url: ServingURL
    /// Longest wait for the TCP connection.
    public var connectTimeout: Duration
    /// Longest wait for the socket to accept request bytes, or for the next response bytes.
    /// A stream that stays silent this long fails with ``ServingClientError/Code/timedOut``.
    public var readTimeout: Duration

    public init(url: ServingURL, connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(600)) {
        self.url = url
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
    }

    /// Sends one request and reads the whole response, whatever its status.
    /// Use ``HTTPResponse/checked(_:)`` to turn 4xx/5xx into errors.
    public func send(_ method: String, _ path: String, json body: Data? = nil) throws -> HTTPResponse {
        let request = "\(method) \(path)"
        let connection = try open(method, path, body: body, accept: "application/json")
        defer { connection.close() }
        var reader = ResponseReader(connection: connection, timeout: readTimeout, request: request)
        let head = try reader.readHead(isHeadRequest: method == "HEAD")
        return HTTPResponse(head: head, body: Data(try reader.readBody()))
    }

    /// Sends one request whose response is a `text/event-stream` and calls `onEvent` for each event
    /// as soon as its bytes arrive, on the calling thread. Returning `false` from `onEvent` stops
    /// reading and closes the connection. Returns when the server ends the body.
    ///
    /// A 4xx/5xx response throws ``ServingClientError/Code/httpStatus`` with the server's message;
    /// a 2xx response of another content type throws ``ServingClientError/Code/malformedResponse``.
    public func streamEvents(
        _ method: String, _ path: String, json body: Data?, onEvent: (ServerSentEvent) throws -> Bool
    ) throws {
        let request = "\(method) \(path)"
        let connection = try open(method, path, body: body, accept: "text/event-stream")
        defer { connection.close() }
        var reader = ResponseReader(connection: connection, timeout: readTimeout, request: request)
        let head = try reader.readHead()
        guard head.isSuccess else {
            let body = Data(try reader.readBody())
            throw HTTPResponse.error(status: head.status, reason: head.reason, body: body, request: request)
        }
        if let type = head.value(for: "Content-Type"), !type.lowercased().hasPrefix("text/event-stream") {
            let body = String(decoding: try reader.readBody().prefix(200), as: UTF8.self)
            throw ServingClientError.malformedResponse(
                "\(request) answered with Content-Type '\(type)' instead of an event stream: \(body)")
        }
        var parser = ServerSentEventParser()
        while let piece = try reader.nextBodyPiece() {
            for event in parser.feed(piece, arrival: .now) {
                guard try onEvent(event) else { return }
            }
        }
    }

    // MARK: - Private

    /// Connects and writes the request head and body.
    private func open(_ method: String, _ path: String, body: Data?, accept: String) throws -> SocketConnection {
        let connection = try SocketConnection(url: url, timeout: connectTimeout)
        var head = "\(method) \(url.target(path)) HTTP/1.1\r\n"
        head += "Host: \(url.authority)\r\nUser-Agent: radixserve-client\r\nAccept: \(accept)\r\nConnection: close\r\n"
        if let body {
            head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        } else if method == "POST" || method == "PUT" {
            head += "Content-Length: 0\r\n"
        }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if let body { bytes.append(contentsOf: body) }
        try connection.write(bytes, timeout: readTimeout)
        return connection
    }
}
