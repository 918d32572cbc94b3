// RadixServe: hex spellings for the conformance report.

extension UInt64 {
    /// `0x` and 16 lowercase hex digits.
    var hex: String {
        let digits = String(self, radix: 16)
        return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
    }
}

extension [UInt8] {
    /// Lowercase hex digits, two per byte.
    var hex: String {
        map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}
