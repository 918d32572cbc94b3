// Fixed 16-byte header that precedes every data frame between ranks.

/// The first frame of every two-frame message on a data socket; the second frame is the raw
/// payload (little-endian `Float`s or bytes), so tensors never pass through an encoder.
///
/// ```
/// byte  0      1        2          3     4 ..< 8          8 ..< 16
///      magic  version  operation  root  sequence (LE)    count (LE): elements, bytes or rank
/// ```
/// The sequence number counts collective calls, so a rank that lost lock-step is detected on
/// the next frame instead of silently mixing data from two different calls.
struct FrameHeader: Equatable {
    static let byteCount = 16
    static let magic: UInt8 = 0xC5
    static let version: UInt8 = 1

    var operation: CollectiveOperation
    var root: UInt8
    var sequence: UInt32
    var count: UInt64

    /// Calls `body` with the encoded header in stack memory.
    func withEncodedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(byteCount: Self.byteCount, alignment: 8) { raw in
            raw.storeBytes(of: Self.magic, toByteOffset: 0, as: UInt8.self)
            raw.storeBytes(of: Self.version, toByteOffset: 1, as: UInt8.self)
            raw.storeBytes(of: operation.rawValue, toByteOffset: 2, as: UInt8.self)
            raw.storeBytes(of: root, toByteOffset: 3, as: UInt8.self)
            raw.storeBytes(of: sequence.littleEndian, toByteOffset: 4, as: UInt32.self)
            raw.storeBytes(of: count.littleEndian, toByteOffset: 8, as: UInt64.self)
            return try body(UnsafeRawBufferPointer(raw))
        }
    }

    /// Decodes a header, or returns `nil` for anything that is not one (wrong size, magic,
    /// version or operation).
    init?(decoding bytes: UnsafeRawBufferPointer) {
        guard bytes.count == Self.byteCount,
            bytes[0] == Self.magic,
            bytes[1] == Self.version,
            let operation = CollectiveOperation(rawValue: bytes[2])
        else { return nil }
        self.operation = operation
        self.root = bytes[3]
        self.sequence = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        self.count = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    init(operation: CollectiveOperation, root: UInt8, sequence: UInt32, count: UInt64) {
        self.operation = operation
        self.root = root
        self.sequence = sequence
        self.count = count
    }
}
