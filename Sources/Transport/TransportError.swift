// The single error type of the Transport module.
import CZeroMQ

/// A failed libzmq call.
///
/// Equality and hashing look at ``code`` only, so tests can write `error == .timeout()`-style
/// comparisons through ``Code`` without caring about the message or source location.
/// `EINTR` never surfaces: every blocking call is retried when a signal interrupts it.
public struct TransportError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The kind of failure. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case timeout, contextTerminated, unroutable, addressInUse, invalidEndpoint, invalidState, system
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The send or receive did not complete within its timeout (`EAGAIN`).
        public static let timeout = Code(.timeout)
        /// The context was shut down or terminated while the call was blocked (`ETERM`).
        public static let contextTerminated = Code(.contextTerminated)
        /// A ROUTER with `ZMQ_ROUTER_MANDATORY` could not route to the identity (`EHOSTUNREACH`).
        public static let unroutable = Code(.unroutable)
        /// `bind` found the address taken (`EADDRINUSE`).
        public static let addressInUse = Code(.addressInUse)
        /// The endpoint string is malformed, uses an unsupported transport or names no local address.
        public static let invalidEndpoint = Code(.invalidEndpoint)
        /// The socket was used after `close()`, or in a state its pattern forbids (`EFSM`).
        public static let invalidState = Code(.invalidState)
        /// Any other errno from libzmq or the system.
        public static let system = Code(.system)

        public var description: String {
            switch base {
            case .timeout: "timeout"
            case .contextTerminated: "contextTerminated"
            case .unroutable: "unroutable"
            case .addressInUse: "addressInUse"
            case .invalidEndpoint: "invalidEndpoint"
            case .invalidState: "invalidState"
            case .system: "system"
            }
        }
    }

    /// What went wrong, coarsely.
    public let code: Code
    /// The operation and its arguments, e.g. `bind(ipc:///tmp/x)`.
    public let message: String
    /// The errno reported by libzmq, if any.
    public let errorNumber: Int32?
    /// `zmq_strerror(errorNumber)`, if any.
    public let errorText: String?
    /// Where the error was raised (`#fileID`).
    public let file: String
    /// Where the error was raised (`#line`).
    public let line: Int

    /// Creates an error; prefer the static factories.
    public init(
        code: Code, message: String, errorNumber: Int32? = nil, file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.errorNumber = errorNumber
        self.errorText = errorNumber.map { String(cString: zmq_strerror($0)) }
        self.file = file
        self.line = line
    }

    public static func == (lhs: TransportError, rhs: TransportError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String {
        var text = "TransportError.\(code): \(message)"
        if let errorText, let errorNumber { text += " (errno \(errorNumber): \(errorText))" }
        return text
    }

    /// Maps an errno from a failed libzmq call to an error.
    public static func fromErrno(
        _ errorNumber: Int32, _ message: String, file: String = #fileID, line: Int = #line
    ) -> TransportError {
        let code: Code
        switch errorNumber {
        case EAGAIN: code = .timeout
        case czmq_ETERM: code = .contextTerminated
        case czmq_EHOSTUNREACH: code = .unroutable
        case czmq_EADDRINUSE: code = .addressInUse
        case EINVAL, czmq_EPROTONOSUPPORT, czmq_EADDRNOTAVAIL, czmq_ENOCOMPATPROTO, ENODEV, ENOENT: code = .invalidEndpoint
        case czmq_EFSM, ENOTSOCK: code = .invalidState
        default: code = .system
        }
        return TransportError(code: code, message: message, errorNumber: errorNumber, file: file, line: line)
    }

    /// The socket was used after `close()`.
    public static func closed(_ message: String, file: String = #fileID, line: Int = #line) -> TransportError {
        TransportError(code: .invalidState, message: "\(message) on a closed socket", file: file, line: line)
    }
}
