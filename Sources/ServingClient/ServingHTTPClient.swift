import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Blocking HTTP calls to one server, made with AsyncHTTPClient.
///
/// Each call blocks only its caller, so a client value can be shared by any number of threads;
/// copies share one AsyncHTTPClient (see ``HTTPSession``). Requests go out with
/// `Connection: close`, one connection each, as a benchmark's independent users would open them.
/// Failures throw ``ServingClientError`` naming the URL and the request.
public struct ServingHTTPClient: Sendable {
    /// The server's base URL; request paths are appended to its ``ServingURL/basePath``.
    public let url: ServingURL
    /// Longest wait for the TCP connection.
    public let connectTimeout: Duration
    /// Longest wait for the next response bytes (the head included). A stream that stays silent
    /// this long fails with ``ServingClientError/Code/timedOut``.
    public let readTimeout: Duration
    /// Sent as `Authorization: Bearer KEY` with every request when set.
    public let apiKey: String?
    /// The CAs an `https` server's certificate must chain to.
    public let trust: ServingTrust
    private let session: HTTPSession

    public init(
        url: ServingURL, connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(600), apiKey: String? = nil,
        trust: ServingTrust = .system
    ) {
        self.url = url
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.apiKey = apiKey
        self.trust = trust
        session = HTTPSession(connectTimeout: connectTimeout, readTimeout: readTimeout, trust: trust)
    }

    /// Sends one request and reads the whole response, whatever its status.
    /// Use ``HTTPResponse/checked(_:)`` to turn 4xx/5xx into errors.
    public func send(_ method: String, _ path: String, json body: Data? = nil) throws -> HTTPResponse {
        let exchange = try Exchange(self, method, path, body: body, accept: "application/json")
        let head = try exchange.head()
        return HTTPResponse(head: head, body: try exchange.remainingBody())
    }

    /// Sends one request whose response is a `text/event-stream` and calls `onEvent` for each event
    /// as soon as its bytes arrive, on the calling thread; each event's ``ServerSentEvent/arrival``
    /// is when the bytes that completed it were received. Returning `false` from `onEvent` stops
    /// reading and closes the connection. Returns when the server ends the body.
    ///
    /// A 4xx/5xx response throws ``ServingClientError/Code/httpStatus`` with the server's message;
    /// a 2xx response of another content type throws ``ServingClientError/Code/malformedResponse``.
    public func streamEvents(
        _ method: String, _ path: String, json body: Data?, onEvent: (ServerSentEvent) throws -> Bool
    ) throws {
        let exchange = try Exchange(self, method, path, body: body, accept: "text/event-stream")
        defer { exchange.cancel() }
        var response = HTTPResponse(head: try exchange.head(), body: Data())
        guard response.isSuccess else {
            response.body = try exchange.remainingBody()
            throw response.error(exchange.request)
        }
        if let type = response.value(for: "Content-Type"), !type.lowercased().hasPrefix("text/event-stream") {
            let text = String(decoding: try exchange.remainingBody().prefix(200), as: UTF8.self)
            throw ServingClientError.malformedResponse(
                "\(exchange.request) answered with Content-Type '\(type)' instead of an event stream: \(text)")
        }
        var parser = ServerSentEventParser()
        while let (bytes, arrival) = try exchange.nextBodyPart() {
            for event in parser.feed(bytes.readableBytesView, arrival: arrival) {
                guard try onEvent(event) else { return }
            }
        }
    }

    /// One request in flight and the reading of its response.
    private final class Exchange {
        /// `"POST /v1/completions"`, for messages.
        let request: String
        private let url: ServingURL
        private let readTimeout: Duration
        private let handOff: ResponseHandOff
        private let task: HTTPClient.Task<Void>
        private var hasHead = false
        private var isFinished = false

        init(_ client: ServingHTTPClient, _ method: String, _ path: String, body: Data?, accept: String) throws {
            request = "\(method) \(path)"
            url = client.url
            readTimeout = client.readTimeout
            var headers = HTTPHeaders()
            headers.add(name: "User-Agent", value: "radixserve-client")
            headers.add(name: "Accept", value: accept)
            headers.add(name: "Connection", value: "close")
            if body != nil { headers.add(name: "Content-Type", value: "application/json") }
            if let apiKey = client.apiKey { headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
            let target = "\(client.url.scheme)://\(client.url.host):\(client.url.port)\(client.url.target(path))"
            let outgoing: HTTPClient.Request
            do {
                outgoing = try HTTPClient.Request(
                    url: target, method: HTTPMethod(rawValue: method), headers: headers,
                    body: body.map { .bytes($0) } ?? (method == "POST" || method == "PUT" ? .bytes(Data()) : nil))
            } catch {
                throw ServingClientError.invalidURL("cannot send \(request) to \(client.url): \(error)")
            }
            (handOff, task) = ResponseHandOff.start(outgoing, on: client.session.client)
        }

        /// Waits for the response head.
        func head() throws -> HTTPResponseHead {
            switch handOff.next() {
            case .head(let head):
                hasHead = true
                return head
            case .body, .end:
                isFinished = true
                throw ServingClientError.connectionClosed("\(url) closed the connection without answering \(request)")
            case .failure(let error):
                isFinished = true
                throw ServingClientError(transport: error, url: url, request: request, readTimeout: readTimeout, hasHead: false)
            }
        }

        /// The next body bytes with their arrival time, or nil once the body is complete.
        func nextBodyPart() throws -> (ByteBuffer, ContinuousClock.Instant)? {
            guard !isFinished else { return nil }
            switch handOff.next() {
            case .body(let bytes, let arrival):
                return (bytes, arrival)
            case .head, .end:
                isFinished = true
                return nil
            case .failure(let error):
                isFinished = true
                throw ServingClientError(transport: error, url: url, request: request, readTimeout: readTimeout, hasHead: hasHead)
            }
        }

        /// The rest of the body.
        func remainingBody() throws -> Data {
            var body = Data()
            while let (bytes, _) = try nextBodyPart() { body.append(contentsOf: bytes.readableBytesView) }
            return body
        }

        /// Stops the request if it is still running (the connection is closed).
        func cancel() {
            if !isFinished { task.cancel() }
        }
    }
}
