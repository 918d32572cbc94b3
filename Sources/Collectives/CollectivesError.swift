// The single error type of the Collectives module.

/// A collective call failed; the communicator that threw it is now poisoned.
///
/// Equality and hashing look at ``code`` only.
public struct CollectivesError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The kind of failure. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: UInt8, Hashable, Sendable {
            case timeout = 1, peerClosed, sizeMismatch, fingerprintMismatch, versionMismatch
            case protocolViolation, poisoned, invalidConfiguration, transport
        }

        let base: Base

        /// A peer did not send (or accept) its part within the call's timeout.
        public static let timeout = Code(base: .timeout)
        /// A peer closed its communicator or failed and told us so.
        public static let peerClosed = Code(base: .peerClosed)
        /// Ranks disagree on an element or byte count.
        public static let sizeMismatch = Code(base: .sizeMismatch)
        /// A joining rank's group fingerprint differs from rank 0's.
        public static let fingerprintMismatch = Code(base: .fingerprintMismatch)
        /// A joining rank speaks another collectives protocol version.
        public static let versionMismatch = Code(base: .versionMismatch)
        /// A peer sent a malformed frame or a different operation than this rank expected.
        public static let protocolViolation = Code(base: .protocolViolation)
        /// The communicator failed earlier; the message carries the original error.
        public static let poisoned = Code(base: .poisoned)
        /// Ranks were configured inconsistently (world size, duplicate rank, endpoints).
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// The underlying socket layer failed for another reason.
        public static let transport = Code(base: .transport)

        public var description: String { "\(base)" }
    }

    /// What went wrong, coarsely.
    public let code: Code
    /// A human-readable explanation naming the values involved.
    public let message: String
    /// The collective that failed (`"allReduceSum"`, `"bootstrap"`, …).
    public let operation: String
    /// The peer rank involved, when one is known.
    public let peer: Int?
    /// Where the error was raised (`#fileID`).
    public let file: String
    /// Where the error was raised (`#line`).
    public let line: Int

    /// Creates an error; prefer the static factories.
    public init(
        code: Code, message: String, operation: String, peer: Int? = nil, file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.operation = operation
        self.peer = peer
        self.file = file
        self.line = line
    }

    public static func == (lhs: CollectivesError, rhs: CollectivesError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String {
        "CollectivesError.\(code) in \(operation)\(peer.map { " (peer rank \($0))" } ?? ""): \(message)"
    }

    /// `peer` did not take part in `operation` within `seconds`.
    public static func timeout(
        _ operation: String, peer: Int?, seconds: Double, detail: String = "", file: String = #fileID, line: Int = #line
    ) -> CollectivesError {
        let who = peer.map { "rank \($0)" } ?? "a peer"
        let text = "\(who) did not respond within \(seconds) s" + (detail.isEmpty ? "" : "; \(detail)")
        return CollectivesError(code: .timeout, message: text, operation: operation, peer: peer, file: file, line: line)
    }

    /// The error every call throws once the communicator was poisoned by `original`.
    public static func poisoned(by original: CollectivesError, operation: String) -> CollectivesError {
        CollectivesError(
            code: .poisoned, message: "communicator unusable after an earlier failure: \(original)",
            operation: operation, peer: original.peer, file: original.file, line: original.line)
    }
}
