// GPT-2's reversible byte <-> printable-character mapping.
// Mirrors HF tokenizers pre_tokenizers/byte_level.rs (bytes_char).

/// Maps each byte to a printable scalar and back, as GPT-2's `bytes_to_unicode` does.
enum ByteLevel {
    /// Scalar representing each byte value.
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let isPrintable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if isPrintable {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// Byte represented by each scalar value below 0x144; -1 where no byte maps there.
    private static let scalarToByte: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in byteToScalar.enumerated() { table[Int(scalar.value)] = Int16(byte) }
        return table
    }()

    /// The byte for `scalar`, or nil when `scalar` is not part of the mapping.
    @inline(__always)
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = Int(scalar.value)
        guard value < scalarToByte.count else { return nil }
        let byte = scalarToByte[value]
        return byte < 0 ? nil : UInt8(byte)
    }

    /// Replaces `scalars` by the mapped scalars of their UTF-8 bytes.
    static func encode(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(scalars.count)
        for scalar in scalars {
            if scalar.value < 0x80 {
                result.append(byteToScalar[Int(scalar.value)])
            } else {
                for byte in UTF8.encode(scalar)! { result.append(byteToScalar[Int(byte)]) }
            }
        }
        return result
    }

    /// The bytes of `token` if every scalar is mapped, else its own UTF-8 bytes
    /// (as the reference decoder does for added tokens such as "<|im start|>").
    static func decodeBytes(of token: String, into bytes: inout [UInt8]) {
        let start = bytes.count
        for scalar in token.unicodeScalars {
            guard let byte = byte(for: scalar) else {
                bytes.removeSubrange(start...)
                bytes.append(contentsOf: token.utf8)
                return
            }
            bytes.append(byte)
        }
    }
}
