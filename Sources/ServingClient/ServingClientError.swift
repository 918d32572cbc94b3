// The single error type of the ServingClient module.

/// A failed request to a RadixServe router (or any server speaking its HTTP API).
///
/// Equality and hashing look at ``code`` only, so tests can compare with `error == .timedOut("")`-style
/// factories without caring about the message. ``description`` is the message alone, written for
/// the person at the terminal: it names the URL or the request and, for HTTP errors, the status and
/// the server's own `error.message`.
public struct ServingClientError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The kind of failure. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case invalidURL, connectionFailed, timedOut, connectionClosed, malformedResponse, httpStatus, server, tls
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The URL is not `http://HOST[:PORT][/PATH]` or `https://HOST[:PORT][/PATH]`.
        public static let invalidURL = Code(.invalidURL)
        /// TLS failed: the CA file is not usable, the server's certificate is not trusted or not
        /// valid for its host, or the TLS handshake failed (e.g. the server does not speak TLS).
        public static let tls = Code(.tls)
        /// The host did not resolve, or the TCP connection was refused or unreachable.
        public static let connectionFailed = Code(.connectionFailed)
        /// Connecting, sending, or waiting for the next bytes of a response took longer than allowed.
        public static let timedOut = Code(.timedOut)
        /// The server closed or reset the connection before the response (or the event stream) ended.
        public static let connectionClosed = Code(.connectionClosed)
        /// The bytes received are not the HTTP, SSE or JSON that was expected.
        public static let malformedResponse = Code(.malformedResponse)
        /// The server answered with a 4xx or 5xx status; see ``ServingClientError/status``.
        public static let httpStatus = Code(.httpStatus)
        /// The server reported an error inside a 2xx event stream (`data: {"error": …}`).
        public static let server = Code(.server)

        public var description: String {
            switch base {
            case .invalidURL: "invalidURL"
            case .connectionFailed: "connectionFailed"
            case .timedOut: "timedOut"
            case .connectionClosed: "connectionClosed"
            case .malformedResponse: "malformedResponse"
            case .httpStatus: "httpStatus"
            case .server: "server"
            case .tls: "tls"
            }
        }
    }

    /// What went wrong, coarsely.
    public let code: Code
    /// A complete sentence for the user.
    public let message: String
    /// The HTTP status, for ``Code/httpStatus``.
    public let status: Int?
    /// The server's `error.message`, when its error body had one.
    public let serverMessage: String?
    /// Where the error was raised (`#fileID`).
    public let file: String
    /// Where the error was raised (`#line`).
    public let line: Int

    /// Creates an error; prefer the static factories.
    public init(
        code: Code, message: String, status: Int? = nil, serverMessage: String? = nil, file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.status = status
        self.serverMessage = serverMessage
        self.file = file
        self.line = line
    }

    public static func == (lhs: ServingClientError, rhs: ServingClientError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String { message }

    public static func invalidURL(_ message: String, file: String = #fileID, line: Int = #line) -> ServingClientError {
        ServingClientError(code: .invalidURL, message: message, file: file, line: line)
    }

    public static func connectionFailed(_ message: String, file: String = #fileID, line: Int = #line)
        -> ServingClientError
    {
        ServingClientError(code: .connectionFailed, message: message, file: file, line: line)
    }

    public static func timedOut(_ message: String, file: String = #fileID, line: Int = #line) -> ServingClientError {
        ServingClientError(code: .timedOut, message: message, file: file, line: line)
    }

    public static func connectionClosed(_ message: String, file: String = #fileID, line: Int = #line)
        -> ServingClientError
    {
        ServingClientError(code: .connectionClosed, message: message, file: file, line: line)
    }

    public static func malformedResponse(_ message: String, file: String = #fileID, line: Int = #line)
        -> ServingClientError
    {
        ServingClientError(code: .malformedResponse, message: message, file: file, line: line)
    }

    public static func tls(_ message: String, file: String = #fileID, line: Int = #line) -> ServingClientError {
        ServingClientError(code: .tls, message: message, file: file, line: line)
    }

    public static func server(_ message: String, file: String = #fileID, line: Int = #line) -> ServingClientError {
        ServingClientError(code: .server, message: message, serverMessage: message, file: file, line: line)
    }
}
