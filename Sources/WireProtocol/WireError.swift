// The single error type of the WireProtocol module.

/// A frame could not be decoded. Decoders throw this for every malformed input; they never trap.
///
/// Equality and hashing look at ``code`` only.
public struct WireError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The kind of failure. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: UInt8, Hashable, Sendable {
            case badMagic = 1, unsupportedVersion, unknownKind, truncated, oversized, trailingBytes, invalidValue
        }

        let base: Base

        /// The frame does not start with ``WireFrameHeader/magic``: not a RadixServe frame.
        public static let badMagic = Code(base: .badMagic)
        /// The frame's protocol version is not ``WireFrameHeader/currentVersion``.
        public static let unsupportedVersion = Code(base: .unsupportedVersion)
        /// The message kind is not known to this decoder.
        public static let unknownKind = Code(base: .unknownKind)
        /// The frame ends before a header, field or array it announces.
        public static let truncated = Code(base: .truncated)
        /// The frame or one of its arrays or strings exceeds a limit.
        public static let oversized = Code(base: .oversized)
        /// Bytes follow the last field of the message.
        public static let trailingBytes = Code(base: .trailingBytes)
        /// A field has an impossible value (inconsistent counts, out-of-range index, bad UTF-8).
        public static let invalidValue = Code(base: .invalidValue)

        public var description: String { "\(base)" }
    }

    /// What went wrong, coarsely.
    public let code: Code
    /// A human-readable explanation naming the values involved.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func == (lhs: WireError, rhs: WireError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String { "WireError.\(code): \(message)" }
}
