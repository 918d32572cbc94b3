// Appends little-endian fields to a reusable byte array.

/// Builds one frame in a reusable `[UInt8]`: ``begin(kind:)``, field writes, ``finish()``.
/// Reusing a writer keeps the buffer's capacity, so steady-state encoding does not allocate.
/// Not thread-safe.
public struct WireWriter: Sendable {
    /// The frame under construction (complete after ``finish()``).
    /// Mutable so it can be handed to an `inout` transport call without a copy; do not edit it
    /// between ``begin(kind:version:)`` and ``finish()``.
    public var bytes: [UInt8] = []

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// Clears the buffer (keeping capacity) and writes a header with a placeholder length.
    public mutating func begin(kind: UInt16, version: UInt16 = WireFrameHeader.currentVersion) {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: WireFrameHeader.magic)
        write(version)
        write(kind)
        write(UInt32(0))
        write(UInt32(0))
    }

    /// Patches the payload length into the header. Precondition: the payload fits in a UInt32.
    public mutating func finish() {
        let payload = bytes.count - WireFrameHeader.byteCount
        precondition(payload >= 0 && payload <= Int(UInt32.max), "frame payload too large")
        withUnsafeBytes(of: UInt32(payload).littleEndian) { length in
            for index in 0..<4 { bytes[8 + index] = length[index] }
        }
    }

    @inlinable
    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A UInt32 element count followed by the elements.
    public mutating func write(_ values: [Int32]) {
        write(UInt32(values.count))
        #if _endian(little)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
        for value in values { write(value) }
        #endif
    }

    /// A UInt32 byte count followed by the UTF-8 bytes.
    public mutating func write(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            write(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }
}
