// The 16-byte header that starts every RadixServe wire frame (see docs/WIRE_PROTOCOL.md).

/// The fixed header of a frame. Layout (little-endian):
/// ```
/// offset  size  field
///      0     4  magic          "RXSW" (0x52 0x58 0x53 0x57)
///      4     2  version        protocol version (UInt16)
///      6     2  kind           message kind (UInt16), see ``WireMessageKind``
///      8     4  payloadLength  bytes after the header (UInt32); the frame is exactly 16 + this
///     12     4  reserved       0 in this version; decoders reject anything else
/// ```
/// The magic and version come first in every version, so a peer speaking another version is
/// recognised and named in the error instead of being misparsed.
public struct WireFrameHeader: Sendable, Hashable {
    /// "RXSW".
    public static let magic: [UInt8] = [0x52, 0x58, 0x53, 0x57]
    /// The version this build writes and accepts.
    public static let currentVersion: UInt16 = 1
    /// Header size in bytes.
    public static let byteCount = 16
    /// Default largest accepted frame (header + payload): 64 MiB.
    public static let defaultMaxFrameBytes = 64 << 20

    public var version: UInt16
    public var kind: UInt16
    public var payloadLength: UInt32

    public init(version: UInt16 = WireFrameHeader.currentVersion, kind: UInt16, payloadLength: UInt32) {
        self.version = version
        self.kind = kind
        self.payloadLength = payloadLength
    }

    /// Reads the header of `frame` and checks the magic, the reserved word, that the frame is
    /// exactly as long as announced and at most `maxFrameBytes`. Does not check the version, so
    /// callers can name a peer's version in their error; ``WireReader`` does.
    public static func parse(_ frame: UnsafeRawBufferPointer, maxFrameBytes: Int = defaultMaxFrameBytes) throws(WireError)
        -> WireFrameHeader
    {
        guard frame.count >= byteCount else {
            throw WireError(.truncated, "frame of \(frame.count) bytes is shorter than the \(byteCount)-byte header")
        }
        guard frame[0] == magic[0], frame[1] == magic[1], frame[2] == magic[2], frame[3] == magic[3] else {
            throw WireError(.badMagic, "frame does not start with the RXSW magic")
        }
        let header = WireFrameHeader(
            version: UInt16(littleEndian: frame.loadUnaligned(fromByteOffset: 4, as: UInt16.self)),
            kind: UInt16(littleEndian: frame.loadUnaligned(fromByteOffset: 6, as: UInt16.self)),
            payloadLength: UInt32(littleEndian: frame.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        let reserved = UInt32(littleEndian: frame.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        guard reserved == 0 else { throw WireError(.invalidValue, "reserved header word is \(reserved), expected 0") }
        let announced = byteCount + Int(header.payloadLength)
        guard announced <= maxFrameBytes else {
            throw WireError(.oversized, "frame announces \(announced) bytes; the limit is \(maxFrameBytes)")
        }
        guard frame.count >= announced else {
            throw WireError(.truncated, "frame announces \(announced) bytes but has \(frame.count)")
        }
        guard frame.count == announced else {
            throw WireError(.trailingBytes, "frame announces \(announced) bytes but has \(frame.count)")
        }
        return header
    }
}

/// Message kinds. High byte = message family, so families can grow independently:
/// `0x01xx` leader ⇄ rank, `0x02xx` reserved for router ⇄ worker.
public enum WireMessageKind {
    /// Leader ⇄ rank: ``RankHello``.
    public static let rankHello: UInt16 = 0x0101
    /// Leader → rank: ``StepPlan``.
    public static let rankStep: UInt16 = 0x0102
    /// Leader → rank: the leader is idle but alive.
    public static let rankHeartbeat: UInt16 = 0x0103
    /// Leader → rank: leave the step loop and exit.
    public static let rankShutdown: UInt16 = 0x0104
}
