// Unicode classes used by the pre-tokenizer regexes, with a table for the BMP.

/// The class of a scalar as seen by `\p{L}`, `\p{N}` and `\s` in the reference regex engine.
enum ScalarClass: UInt8, Sendable {
    case letter
    case number
    case whitespace
    case other

    /// Lookup table for U+0000…U+FFFF; scalars above it are classified on demand.
    private static let table: [ScalarClass] = (0..<0x1_0000).map { code in
        guard let scalar = Unicode.Scalar(UInt32(code)) else { return .other }
        return classify(scalar)
    }

    private static func classify(_ scalar: Unicode.Scalar) -> ScalarClass {
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        // The reference library's regex engine predates Unicode 17; scalars assigned since are
        // unassigned there and so match none of \p{L}, \p{N}, \s.
        if let age = properties.age, age.major >= 17 { return .other }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    /// Class of `scalar`; O(1) for the BMP.
    @inline(__always)
    static func of(_ scalar: Unicode.Scalar) -> ScalarClass {
        let value = scalar.value
        if value < 0x1_0000 { return table[Int(value)] }
        return classify(scalar)
    }
}

extension Unicode.Scalar {
    /// Rust's `char::is_whitespace` (the White_Space property).
    var isWhitespaceScalar: Bool {
        ScalarClass.of(self) == .whitespace
    }

    /// Rust's `char::is_alphanumeric` extended with `_`, the `\w` test used by added tokens.
    var isWordScalar: Bool {
        if self == "_" { return true }
        let properties = self.properties
        if properties.isAlphabetic { return true }
        switch properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }
}
