// Bounds-checked reads of little-endian fields from one frame.

/// Reads one frame's payload front to back. Every read checks the remaining length, so a
/// truncated or lying frame throws ``WireError`` and never reads out of bounds; arrays and
/// strings are checked against the remaining bytes *before* anything is allocated.
/// Not thread-safe; valid while the frame's bytes are alive.
public struct WireReader {
    /// The frame's header (version already checked).
    public let header: WireFrameHeader
    private let frame: UnsafeRawBufferPointer
    private var offset = WireFrameHeader.byteCount

    /// Parses and checks the header (magic, version, lengths, `maxFrameBytes`).
    public init(frame: UnsafeRawBufferPointer, maxFrameBytes: Int = WireFrameHeader.defaultMaxFrameBytes) throws(WireError) {
        let header = try WireFrameHeader.parse(frame, maxFrameBytes: maxFrameBytes)
        guard header.version == WireFrameHeader.currentVersion else {
            throw WireError(
                .unsupportedVersion,
                "frame uses wire protocol v\(header.version); this build speaks v\(WireFrameHeader.currentVersion)")
        }
        self.header = header
        self.frame = frame
    }

    /// Bytes not read yet.
    public var remaining: Int { frame.count - offset }

    public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self, _ field: @autoclosure () -> String) throws(WireError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw WireError(.truncated, "frame ends inside field '\(field())'") }
        let value = T(littleEndian: frame.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    /// A count-prefixed Int32 array of at most `maxCount` elements.
    public mutating func readInt32Array(_ field: String, maxCount: Int = .max) throws(WireError) -> [Int32] {
        let count = Int(try read(UInt32.self, field + ".count"))
        guard count <= maxCount else {
            throw WireError(.oversized, "'\(field)' has \(count) elements; the limit is \(maxCount)")
        }
        guard count <= remaining / 4 else {
            throw WireError(.truncated, "'\(field)' announces \(count) elements but \(remaining) bytes remain")
        }
        let start = frame.baseAddress! + offset
        let values = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count {
                buffer[index] = Int32(littleEndian: start.loadUnaligned(fromByteOffset: index * 4, as: Int32.self))
            }
            initialized = count
        }
        offset += count * 4
        return values
    }

    /// A count-prefixed UTF-8 string of at most `maxBytes` bytes.
    public mutating func readString(_ field: String, maxBytes: Int) throws(WireError) -> String {
        let count = Int(try read(UInt32.self, field + ".count"))
        guard count <= maxBytes else { throw WireError(.oversized, "'\(field)' has \(count) bytes; the limit is \(maxBytes)") }
        guard count <= remaining else {
            throw WireError(.truncated, "'\(field)' announces \(count) bytes but \(remaining) remain")
        }
        let utf8 = UnsafeRawBufferPointer(rebasing: frame[offset..<(offset + count)])
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw WireError(.invalidValue, "'\(field)' is not valid UTF-8")
        }
        offset += count
        return text
    }

    /// Throws unless every byte was read.
    public func finish() throws(WireError) {
        guard remaining == 0 else {
            throw WireError(.trailingBytes, "\(remaining) bytes follow the last field of kind 0x\(String(header.kind, radix: 16))")
        }
    }
}
