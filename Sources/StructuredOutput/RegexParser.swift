// RadixServe: the regular-expression subset of structured outputs, parsed into a Pattern.

/// Parses the regex subset that serving clients use (see README "Structured outputs") into a
/// ``Pattern``; anything else is refused with a ``ConstraintError`` naming the construct and its
/// offset (in Unicode scalars).
///
/// Supported: literals (any Unicode), `.` (any scalar but `\n`), escapes `\d \D \w \W \s \S
/// \n \r \t \f \v \0 \xHH \uXXXX \u{X…}` and `\` before any ASCII punctuation, classes
/// `[a-z0-9_]`/`[^"]` with those escapes inside, quantifiers `* + ? {m} {m,} {m,n}` (lazy forms
/// `*?` accepted: under whole-output matching they match the same strings), alternation `|`,
/// groups `( )`, `(?: )`, `(?<name> )`, `(?P<name> )`, and `^`/`$` only at the very start/end.
struct RegexParser {
    /// Largest `{m,n}` bound.
    static let maxRepetition = 1000

    private let scalars: [Unicode.Scalar]
    private var position = 0

    /// The parsed pattern and whether it began with `^` and ended with `$`.
    struct Parsed {
        var pattern: Pattern
        var isAnchoredAtStart: Bool
        var isAnchoredAtEnd: Bool
    }

    /// Parses `text`.
    /// - Throws: ``ConstraintError`` naming the first unsupported or malformed construct.
    static func parse(_ text: String) throws(ConstraintError) -> Parsed {
        var parser = RegexParser(scalars: Array(text.unicodeScalars))
        return try parser.parseWhole()
    }

    private init(scalars: [Unicode.Scalar]) {
        self.scalars = scalars
    }

    private var isAtEnd: Bool { position >= scalars.count }
    private var peek: Unicode.Scalar? { isAtEnd ? nil : scalars[position] }

    private func failure(_ what: String, at offset: Int? = nil) -> ConstraintError {
        ConstraintError("unsupported regex construct \(what) at offset \(offset ?? position)")
    }

    private mutating func parseWhole() throws(ConstraintError) -> Parsed {
        var anchoredStart = false
        if peek == "^" {
            anchoredStart = true
            position += 1
        }
        let pattern = try parseAlternation(depth: 0)
        var anchoredEnd = false
        if peek == "$" {
            anchoredEnd = true
            position += 1
        }
        if let scalar = peek {
            if scalar == ")" { throw ConstraintError("unbalanced ')' in regex at offset \(position)") }
            throw failure(scalar == "$" || scalar == "^" ? "anchor '\(scalar)' (only at the very start or end)" : "'\(scalar)'")
        }
        return Parsed(pattern: pattern, isAnchoredAtStart: anchoredStart, isAnchoredAtEnd: anchoredEnd)
    }

    private mutating func parseAlternation(depth: Int) throws(ConstraintError) -> Pattern {
        guard depth < 100 else { throw ConstraintError("regex nests groups deeper than 100") }
        var alternatives = [try parseConcatenation(depth: depth)]
        while peek == "|" {
            position += 1
            alternatives.append(try parseConcatenation(depth: depth))
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    private mutating func parseConcatenation(depth: Int) throws(ConstraintError) -> Pattern {
        var parts: [Pattern] = []
        while let scalar = peek, scalar != "|", scalar != ")" {
            // A `$` is only accepted as the pattern's last scalar (parseWhole consumes it).
            if scalar == "$" && position == scalars.count - 1 && depth == 0 { break }
            var atom = try parseAtom(depth: depth)
            atom = try parseQuantifiers(of: atom)
            parts.append(atom)
        }
        return parts.count == 1 ? parts[0] : .sequence(parts)
    }

    private mutating func parseQuantifiers(of atom: Pattern) throws(ConstraintError) -> Pattern {
        var result = atom
        while let scalar = peek {
            let start = position
            var bounds: (Int, Int?)
            switch scalar {
            case "*": bounds = (0, nil); position += 1
            case "+": bounds = (1, nil); position += 1
            case "?": bounds = (0, 1); position += 1
            case "{":
                guard let parsed = try parseBraces() else { return result }
                bounds = parsed
            default:
                return result
            }
            if peek == "?" {
                position += 1  // lazy: same strings under a whole-output match
            } else if peek == "+" {
                throw failure("possessive quantifier '+'")
            }
            if case .repetition = result, start > 0, ["*", "+", "?", "}"].contains(scalars[start - 1]) {
                throw failure("nested quantifier '\(scalar)'", at: start)
            }
            result = .repetition(result, min: bounds.0, max: bounds.1)
        }
        return result
    }

    /// `{m}`, `{m,}` or `{m,n}`; nil (nothing consumed) when the brace does not start one, in
    /// which case it is a literal `{`.
    private mutating func parseBraces() throws(ConstraintError) -> (Int, Int?)? {
        let start = position
        position += 1
        func number(_ parser: inout RegexParser) -> Int? {
            var digits = ""
            while let scalar = parser.peek, ("0"..."9").contains(scalar), digits.count < 9 {
                digits.unicodeScalars.append(scalar)
                parser.position += 1
            }
            return Int(digits)
        }
        guard let lower = number(&self) else {
            position = start
            return nil
        }
        var upper: Int? = lower
        if peek == "," {
            position += 1
            upper = number(&self)
        }
        guard peek == "}" else {
            position = start
            return nil
        }
        position += 1
        if let upper, upper < lower { throw ConstraintError("regex repetition {\(lower),\(upper)} at offset \(start) has max < min") }
        if max(lower, upper ?? 0) > Self.maxRepetition {
            throw ConstraintError("regex repetition at offset \(start) exceeds \(Self.maxRepetition)")
        }
        return (lower, upper)
    }

    private mutating func parseAtom(depth: Int) throws(ConstraintError) -> Pattern {
        let start = position
        let scalar = scalars[position]
        position += 1
        switch scalar {
        case "(":
            if peek == "?" {
                position += 1
                switch peek {
                case ":": position += 1
                case "<" where position + 1 < scalars.count && (scalars[position + 1] == "=" || scalars[position + 1] == "!"):
                    throw failure("lookbehind '(?<\(scalars[position + 1])'", at: start)
                case "<":
                    try skipGroupName(start: start)
                case "P" where position + 1 < scalars.count && scalars[position + 1] == "<":
                    position += 1
                    try skipGroupName(start: start)
                case "=": throw failure("lookahead '(?='", at: start)
                case "!": throw failure("negative lookahead '(?!'", at: start)
                default: throw failure("group flag or extension '(?\(peek.map(String.init) ?? "")'", at: start)
                }
            }
            let body = try parseAlternation(depth: depth + 1)
            guard peek == ")" else { throw ConstraintError("unclosed '(' in regex at offset \(start)") }
            position += 1
            return body
        case "[":
            return .scalars(try parseClass(start: start))
        case ".":
            return .scalars(ScalarSet.all.subtracting(ScalarSet(0x0A)))
        case "\\":
            return try parseEscape(inClass: false, start: start).pattern
        case "*", "+", "?":
            throw failure("quantifier '\(scalar)' with nothing to repeat", at: start)
        case "^", "$":
            throw failure("anchor '\(scalar)' (only at the very start or end)", at: start)
        default:
            return .literal(Array(String(scalar).utf8))
        }
    }

    private mutating func skipGroupName(start: Int) throws(ConstraintError) {
        position += 1
        while let scalar = peek, scalar != ">" {
            guard scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" else {
                throw ConstraintError("bad group name in regex at offset \(start)")
            }
            position += 1
        }
        guard peek == ">" else { throw ConstraintError("unclosed group name in regex at offset \(start)") }
        position += 1
    }

    private static let digits = ScalarSet([0x30...0x39])
    private static let word = ScalarSet([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
    private static let space = ScalarSet([0x09...0x0D, 0x20...0x20])

    /// An escape after `\`: a class (`\d`) or one scalar.
    private mutating func parseEscape(inClass: Bool, start: Int) throws(ConstraintError) -> (pattern: Pattern, set: ScalarSet) {
        guard let scalar = peek else { throw ConstraintError("regex ends with a lone '\\'") }
        position += 1
        func single(_ value: UInt32) -> (Pattern, ScalarSet) {
            (.literal(ScalarSet.encode(value)), ScalarSet(value))
        }
        switch scalar {
        case "d": return (.scalars(Self.digits), Self.digits)
        case "D": return (.scalars(Self.digits.complement()), Self.digits.complement())
        case "w": return (.scalars(Self.word), Self.word)
        case "W": return (.scalars(Self.word.complement()), Self.word.complement())
        case "s": return (.scalars(Self.space), Self.space)
        case "S": return (.scalars(Self.space.complement()), Self.space.complement())
        case "n": return single(0x0A)
        case "r": return single(0x0D)
        case "t": return single(0x09)
        case "f": return single(0x0C)
        case "v": return single(0x0B)
        case "0": return single(0)
        case "x": return single(try parseHex(count: 2, start: start))
        case "u":
            if peek == "{" {
                position += 1
                var value: UInt32 = 0
                var count = 0
                while let digit = peek, let nibble = Self.hexValue(digit) {
                    value = value << 4 | nibble
                    count += 1
                    position += 1
                    guard count <= 6 else { break }
                }
                guard peek == "}", count > 0, value <= ScalarSet.maxScalar, !(0xD800...0xDFFF).contains(value) else {
                    throw ConstraintError("bad \\u{…} escape in regex at offset \(start)")
                }
                position += 1
                return single(value)
            }
            let value = try parseHex(count: 4, start: start)
            guard !(0xD800...0xDFFF).contains(value) else { throw failure("surrogate escape '\\u\(String(value, radix: 16))'", at: start) }
            return single(value)
        case "b" where !inClass: throw failure("word boundary '\\b'", at: start)
        case "b": return single(0x08)
        case "B": throw failure("non-word boundary '\\B'", at: start)
        case "A", "z", "Z", "G": throw failure("anchor '\\\(scalar)'", at: start)
        case "p", "P": throw failure("Unicode property '\\\(scalar)'", at: start)
        case "1"..."9": throw failure("backreference '\\\(scalar)'", at: start)
        default:
            if scalar.isASCII && !scalar.properties.isAlphabetic && !("0"..."9").contains(scalar) {
                return single(scalar.value)
            }
            throw failure("escape '\\\(scalar)'", at: start)
        }
    }

    private static func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
        switch scalar {
        case "0"..."9": scalar.value - 0x30
        case "a"..."f": scalar.value - 0x61 + 10
        case "A"..."F": scalar.value - 0x41 + 10
        default: nil
        }
    }

    private mutating func parseHex(count: Int, start: Int) throws(ConstraintError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let scalar = peek, let nibble = Self.hexValue(scalar) else {
                throw ConstraintError("bad hexadecimal escape in regex at offset \(start)")
            }
            value = value << 4 | nibble
            position += 1
        }
        return value
    }

    /// A bracket class after `[`.
    private mutating func parseClass(start: Int) throws(ConstraintError) -> ScalarSet {
        var isNegated = false
        if peek == "^" {
            isNegated = true
            position += 1
        }
        var set = ScalarSet.empty
        var isFirst = true
        while true {
            guard let scalar = peek else { throw ConstraintError("unclosed '[' in regex at offset \(start)") }
            if scalar == "]" && !isFirst { break }
            if scalar == "[" && position + 1 < scalars.count && [":", "=", "."].contains(scalars[position + 1]) {
                throw failure("POSIX class '[\(scalars[position + 1])'")
            }
            isFirst = false
            let itemStart = position
            position += 1
            var lower: UInt32
            if scalar == "\\" {
                let escape = try parseEscape(inClass: true, start: itemStart)
                guard escape.set.ranges.count == 1, escape.set.ranges[0].count == 1 else {
                    set = set.union(escape.set)
                    continue
                }
                lower = escape.set.ranges[0].lowerBound
            } else {
                lower = scalar.value
            }
            // A range `a-z`, unless the `-` is last.
            if peek == "-", position + 1 < scalars.count, scalars[position + 1] != "]" {
                position += 1
                let upperStart = position
                let upperScalar = scalars[position]
                position += 1
                var upper = upperScalar.value
                if upperScalar == "\\" {
                    let escape = try parseEscape(inClass: true, start: upperStart)
                    guard escape.set.ranges.count == 1, escape.set.ranges[0].count == 1 else {
                        throw ConstraintError("bad class range in regex at offset \(itemStart)")
                    }
                    upper = escape.set.ranges[0].lowerBound
                }
                guard lower <= upper else { throw ConstraintError("reversed class range in regex at offset \(itemStart)") }
                set = set.union(ScalarSet([lower...upper]))
            } else {
                set = set.union(ScalarSet(lower))
            }
        }
        position += 1
        return isNegated ? set.complement() : set
    }
}
