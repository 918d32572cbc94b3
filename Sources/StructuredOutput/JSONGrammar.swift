// RadixServe: the pieces of JSON text as Patterns: strings, numbers in a range, free-form values.

/// Compact JSON as ``Pattern``s. Whitespace policy: none anywhere, except one optional space
/// after each `:` and `,` (models trained on `{"a": 1, "b": 2}` keep their natural tokens;
/// outputs stay short and a model cannot stall in whitespace).
enum JSONGrammar {
    /// Most digits of an integer part (so integers are bounded by ±(10^16 − 1)).
    static let maxIntegerDigits = 16
    /// Most digits after a decimal point.
    static let maxFractionDigits = 16
    /// Most digits of an exponent (so every number fits a double: at most about 1e115).
    static let maxExponentDigits = 2
    /// Largest magnitude of an integer part.
    static let maxMagnitude = 9_999_999_999_999_999

    static let space = Pattern.optional(.byte(0x20))
    /// `,` between array items and object members.
    static let separator = Pattern.sequence([.byte(0x2C), space])
    static let digit = Pattern.bytes([0x30...0x39])

    /// Characters a JSON string holds unescaped: any scalar but `"`, `\` and controls.
    static let plainCharacters = ScalarSet.all.subtracting(ScalarSet([0x00...0x1F, 0x22...0x22, 0x5C...0x5C]))

    /// One character of a JSON string: unescaped, or an escape `\" \\ \/ \b \f \n \r \t \uXXXX`.
    static let stringCharacter = Pattern.choice([
        .scalars(plainCharacters),
        .sequence([.byte(0x5C), .choice([.anyOf("\"\\/bfnrt"), .sequence([.byte(0x75), .repetition(hexDigit, min: 4, max: 4)])])]),
    ])
    static let hexDigit = Pattern.bytes([0x30...0x39, 0x41...0x46, 0x61...0x66])

    /// A JSON string of `minLength` to `maxLength` characters (an escape counts as one).
    static func string(minLength: Int = 0, maxLength: Int? = nil) -> Pattern {
        .sequence([.byte(0x22), .repetition(stringCharacter, min: minLength, max: maxLength), .byte(0x22)])
    }

    /// An integer in `lower...upper` without leading zeros (`-0` excluded).
    static func integer(_ lower: Int, _ upper: Int) -> Pattern {
        guard lower <= upper else { return .nothing }
        var alternatives: [Pattern] = []
        if lower < 0 {
            alternatives.append(.sequence([.byte(0x2D), magnitudes(max(1, -upper), -lower)]))
        }
        if upper >= 0 {
            alternatives.append(magnitudes(max(0, lower), upper))
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    /// A number in `lower...upper` (integer bounds): an integer in range, or `n.ddd` whose value
    /// lies strictly between two integers of the range. No exponent.
    static func boundedNumber(_ lower: Int, _ upper: Int) -> Pattern {
        guard lower <= upper else { return .nothing }
        let fraction = Pattern.sequence([.byte(0x2E), .repetition(digit, min: 1, max: maxFractionDigits)])
        var alternatives = [integer(lower, upper)]
        // n.f > 0 lies in (n, n+1): needs lower ≤ n and n + 1 ≤ upper.
        if upper >= 1 && max(lower, 0) <= upper - 1 {
            alternatives.append(.sequence([magnitudes(max(lower, 0), upper - 1), fraction]))
        }
        // -n.f lies in (-n-1, -n): needs lower ≤ -n-1 and -n ≤ upper.
        if lower <= -1 && max(0, -upper) <= -lower - 1 {
            alternatives.append(.sequence([.byte(0x2D), magnitudes(max(0, -upper), -lower - 1), fraction]))
        }
        return .choice(alternatives)
    }

    /// Any JSON number with at most ``maxIntegerDigits`` integer digits, ``maxFractionDigits``
    /// fraction digits and ``maxExponentDigits`` exponent digits.
    static let unboundedNumber = Pattern.sequence([
        .optional(.byte(0x2D)),
        .choice([.byte(0x30), .sequence([.bytes([0x31...0x39]), .repetition(digit, min: 0, max: maxIntegerDigits - 1)])]),
        .optional(.sequence([.byte(0x2E), .repetition(digit, min: 1, max: maxFractionDigits)])),
        .optional(.sequence([.anyOf("eE"), .optional(.anyOf("+-")), .repetition(digit, min: 1, max: maxExponentDigits)])),
    ])

    /// Decimal magnitudes in `lower...upper` (both ≥ 0), no leading zeros.
    static func magnitudes(_ lower: Int, _ upper: Int) -> Pattern {
        guard lower <= upper else { return .nothing }
        var alternatives: [Pattern] = []
        let lowerDigits = String(lower).count
        let upperDigits = String(upper).count
        for length in lowerDigits...upperDigits {
            let smallest = length == 1 ? 0 : power(10, length - 1)
            let largest = power(10, length) - 1
            let low = max(lower, smallest)
            let high = min(upper, largest)
            if low <= high { alternatives.append(sameLength(Array(String(low).utf8), Array(String(high).utf8))) }
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    private static func power(_ base: Int, _ exponent: Int) -> Int {
        (0..<exponent).reduce(1) { result, _ in result * base }
    }

    /// Digit strings of one length between `low` and `high` (inclusive, `low ≤ high`).
    private static func sameLength(_ low: [UInt8], _ high: [UInt8]) -> Pattern {
        guard let first = low.first, let last = high.first else { return .empty }
        if low == high { return .literal(low) }
        let lowRest = Array(low.dropFirst())
        let highRest = Array(high.dropFirst())
        if first == last { return .sequence([.byte(first), sameLength(lowRest, highRest)]) }
        let lowRestIsZeros = lowRest.allSatisfy { $0 == 0x30 }
        let highRestIsNines = highRest.allSatisfy { $0 == 0x39 }
        var alternatives: [Pattern] = []
        if !lowRestIsZeros {
            alternatives.append(.sequence([.byte(first), sameLength(lowRest, [UInt8](repeating: 0x39, count: lowRest.count))]))
        }
        let middleLow = lowRestIsZeros ? first : first + 1
        let middleHigh = highRestIsNines ? last : last - 1
        if middleLow <= middleHigh {
            alternatives.append(.sequence([.bytes([middleLow...middleHigh]), .repetition(digit, min: lowRest.count, max: lowRest.count)]))
        }
        if !highRestIsNines {
            alternatives.append(.sequence([.byte(last), sameLength([UInt8](repeating: 0x30, count: highRest.count), highRest)]))
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    /// Any JSON value whose objects and arrays nest at most `depth` levels (0: scalars only).
    static func anyValue(depth: Int) -> Pattern {
        var alternatives: [Pattern] = [string(), unboundedNumber, .literal("true"), .literal("false"), .literal("null")]
        if depth > 0 {
            alternatives.append(anyObject(depth: depth))
            alternatives.append(anyArray(depth: depth))
        }
        return .choice(alternatives)
    }

    /// Any JSON object nesting at most `depth` levels (≥ 1), itself included.
    static func anyObject(depth: Int) -> Pattern {
        let member = Pattern.sequence([string(), .byte(0x3A), space, anyValue(depth: depth - 1)])
        return .sequence([.byte(0x7B), .list(item: member, separator: separator, min: 0, max: nil), .byte(0x7D)])
    }

    /// Any JSON array nesting at most `depth` levels (≥ 1), itself included.
    static func anyArray(depth: Int) -> Pattern {
        .sequence([.byte(0x5B), .list(item: anyValue(depth: depth - 1), separator: separator, min: 0, max: nil), .byte(0x5D)])
    }
}
