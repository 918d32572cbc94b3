// Patterns used by Split, Replace and the regex-driven pre-tokenizers.

/// A search pattern over Unicode scalars: a literal string, one of the well-known
/// pre-tokenizer regexes (hand-coded scanner), or any other regex (Swift `Regex`).
enum TextPattern: Sendable {
    case literal([Unicode.Scalar])
    case wellKnown(WellKnownPattern)
    case regex(CompiledRegex)

    /// Compiles `source`, preferring a hand-coded scanner when the pattern is one of the
    /// well-known pre-tokenizer regexes.
    static func regex(_ source: String) throws -> TextPattern {
        if let known = WellKnownPattern(source: source) { return .wellKnown(known) }
        return .regex(try CompiledRegex(source: source))
    }

    /// Non-overlapping matches, left to right, as scalar offset ranges.
    func matches(in text: [Unicode.Scalar]) -> [Range<Int>] {
        switch self {
        case .literal(let needle):
            return Self.literalMatches(of: needle, in: text)
        case .wellKnown(let pattern):
            return pattern.matches(in: text)
        case .regex(let regex):
            return regex.matches(in: text)
        }
    }

    private static func literalMatches(of needle: [Unicode.Scalar], in text: [Unicode.Scalar]) -> [Range<Int>] {
        guard !needle.isEmpty, needle.count <= text.count else { return [] }
        var result: [Range<Int>] = []
        var index = 0
        let first = needle[0]
        while index + needle.count <= text.count {
            if text[index] == first && text[index..<index + needle.count].elementsEqual(needle) {
                result.append(index..<index + needle.count)
                index += needle.count
            } else {
                index += 1
            }
        }
        return result
    }
}

/// A Swift `Regex` compiled from an Oniguruma-style pattern, matched on Unicode scalars.
struct CompiledRegex: @unchecked Sendable {
    // NOTE: `Regex` is an immutable value; sharing it across threads is safe even where the
    // toolchain does not declare `Sendable` for `AnyRegexOutput`.
    private let regex: Regex<AnyRegexOutput>

    init(source: String) throws {
        regex = try Regex(Self.translate(source)).matchingSemantics(.unicodeScalar)
    }

    /// Rewrites the escapes whose meaning differs between Oniguruma and Swift `Regex`:
    /// `\d`/`\D` are decimal digits (Nd) only, and `\h` is a hexadecimal digit.
    static func translate(_ source: String) -> String {
        var result = ""
        var classDepth = 0
        var iterator = source.unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            switch scalar {
            case "\\":
                guard let escaped = iterator.next() else {
                    result.unicodeScalars.append(scalar)
                    break
                }
                switch escaped {
                case "d": result += "\\p{Nd}"
                case "D": result += "\\P{Nd}"
                case "h": result += classDepth > 0 ? "0-9A-Fa-f" : "[0-9A-Fa-f]"
                case "H": result += classDepth > 0 ? "\\P{ASCII_Hex_Digit}" : "[^0-9A-Fa-f]"
                default:
                    result.unicodeScalars.append(scalar)
                    result.unicodeScalars.append(escaped)
                }
            case "[":
                classDepth += 1
                result.unicodeScalars.append(scalar)
            case "]":
                classDepth = max(0, classDepth - 1)
                result.unicodeScalars.append(scalar)
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    func matches(in scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars)
        let string = String(text)
        let view = string.unicodeScalars
        var result: [Range<Int>] = []
        var cursor = view.startIndex
        var cursorOffset = 0
        for match in string.matches(of: regex) {
            let lower = view.distance(from: cursor, to: match.range.lowerBound) + cursorOffset
            let upper = view.distance(from: match.range.lowerBound, to: match.range.upperBound) + lower
            cursor = match.range.upperBound
            cursorOffset = upper
            result.append(lower..<upper)
        }
        return result
    }
}
