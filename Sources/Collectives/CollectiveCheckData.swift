/// The deterministic inputs and output digest of `radixserve collectives check`, shared by the
/// checker processes and the test that verifies them, so both sides compute the same values.
package enum CollectiveCheckData {
    /// Element `index` of rank `rank`'s input: small integers × 0.5, exact in f32 for any summation order.
    package static func value(rank: Int, index: Int) -> Float { Float((rank + 1) * (index % 251 + 1)) * 0.5 }

    /// 64-bit FNV-1a over the values' bit patterns (little-endian bytes), in hexadecimal.
    package static func hash(_ values: [Float]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for value in values {
            var bits = value.bitPattern
            for _ in 0..<4 {
                hash = (hash ^ UInt64(bits & 0xff)) &* 0x100_0000_01b3
                bits >>= 8
            }
        }
        return String(hash, radix: 16)
    }
}
