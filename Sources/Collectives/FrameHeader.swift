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

extension FrameHeader {
    /// What a frame received where a header was due means for the collective call a rank is in.
    enum Received: Equatable {
        /// The header of the expected call.
        case expected(FrameHeader)
        /// Not a header (wrong size, magic, version or operation), or no payload frame follows.
        case malformed(byteCount: Int)
        /// The peer's goodbye; its reason follows in the payload frame.
        case abort
        /// A header of another call (operation, sequence or root): the ranks lost lock-step.
        case otherCall(FrameHeader)
        /// The expected call with another count; any 64-bit count a peer sends is reported, never converted.
        case otherCount(FrameHeader)
    }

    /// Classifies `bytes`, a frame received from a peer where the header of call `sequence` of
    /// `operation` at `root` is due. `count == nil` accepts any count. Pure: the socket code
    /// turns the answer into errors (``SocketCommunicator/receiveHeader(_:root:count:from:deadline:)``).
    static func classify(
        _ bytes: UnsafeRawBufferPointer, hasMore: Bool, expecting operation: CollectiveOperation, root: Int,
        sequence: UInt32, count: UInt64?
    ) -> Received {
        guard let header = FrameHeader(decoding: bytes), hasMore else { return .malformed(byteCount: bytes.count) }
        if header.operation == .abort { return .abort }
        guard header.sequence == sequence, header.operation == operation, Int(header.root) == root else {
            return .otherCall(header)
        }
        if let count, header.count != count { return .otherCount(header) }
        return .expected(header)
    }
}
