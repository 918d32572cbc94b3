// Messages exchanged on the rendezvous socket while a socket group forms.

/// The rendezvous protocol (one frame per message, after the ROUTER identity on rank 0):
///
/// ```
/// rank k → rank 0   join:    magic "RXCB", kind 1, version u32, rank u32, worldSize u32,
///                            fingerprint str, endpointCount u32, endpoints str…, dataKey str
/// rank 0 → rank k   welcome: magic, kind 2, version u32, worldSize u32, then per rank r:
///                            endpointCount u32, endpoints str… (r's bound sockets for ranks > r),
///                            then worldSize u32 and per rank r its dataKey str
/// rank 0 → rank k   refusal: magic, kind 3, version u32, code u8, reason str
/// ```
/// `str` is a u32 byte count plus UTF-8; all integers are little-endian. `dataKey` is the Z85 CURVE
/// public key of the rank's data sockets (a fresh key pair per group), empty without CURVE; it
/// travels only over the rendezvous, which is itself CURVE-encrypted when the group uses CURVE.
enum BootstrapMessage: Equatable {
    struct Join: Equatable {
        var version: UInt32
        var rank: Int
        var worldSize: Int
        var fingerprint: String
        /// Endpoints this rank bound for ranks `rank + 1 ..< worldSize`, in that order.
        var endpoints: [String]
        /// The CURVE public key of those endpoints (Z85), empty without CURVE.
        var dataKey: String = ""
    }

    case join(Join)
    /// Every rank's bound endpoints and data key, indexed by rank.
    case welcome(version: UInt32, endpoints: [[String]], dataKeys: [String])
    case refusal(version: UInt32, code: CollectivesError.Code, reason: String)

    static let protocolVersion: UInt32 = 3
    private static let magic: [UInt8] = Array("RXCB".utf8)
    /// Rendezvous messages above this size are rejected unread.
    static let maxByteCount = 1 << 20

    func encoded() -> [UInt8] {
        var out = Self.magic
        switch self {
        case .join(let join):
            out.append(1)
            Self.append(join.version, to: &out)
            Self.append(UInt32(join.rank), to: &out)
            Self.append(UInt32(join.worldSize), to: &out)
            Self.append(join.fingerprint, to: &out)
            Self.append(join.endpoints, to: &out)
            // Written as the message's own version lays it out, as `decode` reads it.
            if join.version >= 3 { Self.append(join.dataKey, to: &out) }
        case .welcome(let version, let endpoints, let dataKeys):
            out.append(2)
            Self.append(version, to: &out)
            Self.append(UInt32(endpoints.count), to: &out)
            for list in endpoints { Self.append(list, to: &out) }
            if version >= 3 { Self.append(dataKeys, to: &out) }
        case .refusal(let version, let code, let reason):
            out.append(3)
            Self.append(version, to: &out)
            out.append(code.base.rawValue)
            Self.append(reason, to: &out)
        }
        return out
    }

    /// Decodes a message; malformed input throws ``CollectivesError/Code-swift.struct/protocolViolation``.
    static func decode(_ bytes: [UInt8]) throws -> BootstrapMessage {
        var reader = Reader(bytes: bytes)
        guard try reader.bytes(4).elementsEqual(magic) else { throw reader.malformed("bad magic") }
        let kind = try reader.byte()
        let version = try reader.uInt32()
        let message: BootstrapMessage
        switch kind {
        case 1:
            let rank = Int(try reader.uInt32())
            let worldSize = Int(try reader.uInt32())
            let fingerprint = try reader.string()
            message = .join(.init(
                version: version, rank: rank, worldSize: worldSize, fingerprint: fingerprint,
                endpoints: try reader.strings(), dataKey: version >= 3 ? try reader.string() : ""))
        case 2:
            let count = try reader.uInt32()
            guard count <= 4096 else { throw reader.malformed("world size \(count)") }
            let endpoints = try (0..<count).map { _ in try reader.strings() }
            message = .welcome(version: version, endpoints: endpoints, dataKeys: version >= 3 ? try reader.strings() : [])
        case 3:
            let raw = try reader.byte()
            let code = CollectivesError.Code.Base(rawValue: raw).map(CollectivesError.Code.init) ?? .protocolViolation
            message = .refusal(version: version, code: code, reason: try reader.string())
        default:
            throw reader.malformed("unknown kind \(kind)")
        }
        guard reader.isAtEnd else { throw reader.malformed("trailing bytes") }
        return message
    }

    private static func append(_ value: UInt32, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func append(_ value: String, to out: inout [UInt8]) {
        append(UInt32(value.utf8.count), to: &out)
        out.append(contentsOf: value.utf8)
    }

    private static func append(_ values: [String], to out: inout [UInt8]) {
        append(UInt32(values.count), to: &out)
        for value in values { append(value, to: &out) }
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var isAtEnd: Bool { offset == bytes.count }

        func malformed(_ why: String) -> CollectivesError {
            CollectivesError(
                code: .protocolViolation, message: "malformed rendezvous message (\(bytes.count) bytes): \(why)",
                operation: "bootstrap")
        }

        mutating func bytes(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, bytes.count - offset >= count else { throw malformed("truncated") }
            defer { offset += count }
            return bytes[offset..<(offset + count)]
        }

        mutating func byte() throws -> UInt8 { try bytes(1).first! }

        mutating func uInt32() throws -> UInt32 {
            try bytes(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func string() throws -> String {
            let count = Int(try uInt32())
            guard let text = String(validating: try bytes(count), as: UTF8.self) else { throw malformed("bad UTF-8") }
            return text
        }

        mutating func strings() throws -> [String] {
            let count = try uInt32()
            guard count <= 4096 else { throw malformed("\(count) strings") }
            return try (0..<count).map { _ in try string() }
        }
    }
}
