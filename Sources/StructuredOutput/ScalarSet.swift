// RadixServe: sets of Unicode scalars (regex classes, JSON string characters) and their UTF-8
// encoding as byte-range sequences.

/// A set of Unicode scalar values as sorted, disjoint, non-adjacent closed ranges; surrogates
/// (U+D800–U+DFFF) are never members.
struct ScalarSet: Hashable, Sendable {
    private(set) var ranges: [ClosedRange<UInt32>]

    static let maxScalar: UInt32 = 0x10FFFF
    static let all = ScalarSet([0...maxScalar])
    static let empty = ScalarSet([])

    init(_ ranges: [ClosedRange<UInt32>]) {
        self.ranges = Self.normalized(ranges)
    }

    init(_ scalar: UInt32) {
        self.init([scalar...scalar])
    }

    var isEmpty: Bool { ranges.isEmpty }

    /// True when every member is ASCII.
    var isASCII: Bool { ranges.last.map { $0.upperBound < 0x80 } ?? true }

    func contains(_ scalar: UInt32) -> Bool {
        ranges.contains { $0.contains(scalar) }
    }

    func union(_ other: ScalarSet) -> ScalarSet { ScalarSet(ranges + other.ranges) }

    /// Every scalar not in this set.
    func complement() -> ScalarSet {
        var result: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for range in ranges {
            if range.lowerBound > next { result.append(next...(range.lowerBound - 1)) }
            next = range.upperBound + 1
        }
        if next <= Self.maxScalar { result.append(next...Self.maxScalar) }
        return ScalarSet(result)
    }

    func subtracting(_ other: ScalarSet) -> ScalarSet {
        // A \ B = complement(complement(A) ∪ B)
        complement().union(other).complement()
    }

    /// Sorts and merges `ranges`, then cuts out the surrogates.
    private static func normalized(_ input: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        let sorted = input.filter { $0.lowerBound <= maxScalar }
            .map { $0.lowerBound...min($0.upperBound, maxScalar) }
            .sorted { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt32>] = []
        for range in sorted {
            if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        var result: [ClosedRange<UInt32>] = []
        for range in merged {
            if range.upperBound < 0xD800 || range.lowerBound > 0xDFFF {
                result.append(range)
                continue
            }
            if range.lowerBound < 0xD800 { result.append(range.lowerBound...0xD7FF) }
            if range.upperBound > 0xDFFF { result.append(0xE000...range.upperBound) }
        }
        return result
    }

    /// The UTF-8 encodings of the members, as sequences of byte ranges: a string of bytes encodes a
    /// member exactly when it matches one sequence (each byte within the range at its position).
    var utf8Sequences: [[ClosedRange<UInt8>]] {
        var result: [[ClosedRange<UInt8>]] = []
        for range in ranges {
            // Split at the encoding-length boundaries first: 1, 2, 3 and 4 bytes.
            for (low, high) in [(UInt32(0), UInt32(0x7F)), (0x80, 0x7FF), (0x800, 0xFFFF), (0x10000, 0x10FFFF)] {
                let lower = max(low, range.lowerBound)
                let upper = min(high, range.upperBound)
                if lower <= upper { Self.appendSequences(lower, upper, into: &result) }
            }
        }
        return result
    }

    /// Appends the sequences of `lower...upper`, whose members all encode to the same length.
    /// Splits the range until every continuation byte spans its full 0x80–0xBF range below the
    /// first position where `lower` and `upper` differ; then one sequence covers it.
    private static func appendSequences(_ lower: UInt32, _ upper: UInt32, into result: inout [[ClosedRange<UInt8>]]) {
        let length = encodedLength(lower)
        for trailing in 1..<max(length, 1) {
            let mask: UInt32 = (1 << (6 * UInt32(trailing))) - 1
            if lower & ~mask != upper & ~mask {
                if lower & mask != 0 {
                    appendSequences(lower, lower | mask, into: &result)
                    appendSequences((lower | mask) + 1, upper, into: &result)
                    return
                }
                if upper & mask != mask {
                    appendSequences(lower, (upper & ~mask) - 1, into: &result)
                    appendSequences(upper & ~mask, upper, into: &result)
                    return
                }
            }
        }
        let low = encode(lower)
        let high = encode(upper)
        result.append(zip(low, high).map { $0...$1 })
    }

    static func encodedLength(_ scalar: UInt32) -> Int {
        scalar < 0x80 ? 1 : scalar < 0x800 ? 2 : scalar < 0x10000 ? 3 : 4
    }

    /// UTF-8 bytes of a scalar value (surrogates included, for range end points).
    static func encode(_ scalar: UInt32) -> [UInt8] {
        switch encodedLength(scalar) {
        case 1: [UInt8(scalar)]
        case 2: [UInt8(0xC0 | scalar >> 6), UInt8(0x80 | scalar & 0x3F)]
        case 3: [UInt8(0xE0 | scalar >> 12), UInt8(0x80 | scalar >> 6 & 0x3F), UInt8(0x80 | scalar & 0x3F)]
        default:
            [UInt8(0xF0 | scalar >> 18), UInt8(0x80 | scalar >> 12 & 0x3F), UInt8(0x80 | scalar >> 6 & 0x3F),
             UInt8(0x80 | scalar & 0x3F)]
        }
    }
}
