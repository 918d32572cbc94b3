// Pre-tokenizers from `tokenizer.json` (`pre_tokenizer` field).
// Mirrors HF tokenizers pre_tokenizers/{byte_level,split,metaspace,whitespace,digits,punctuation}.rs.

import OrderedJSON

/// Where Metaspace adds its replacement character in front of a piece.
enum PrependScheme: Sendable, Equatable {
    case first
    case always
    case never
}

/// Splits pieces of normalized text into words for the model.
indirect enum PreTokenizer: Sendable {
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case split(TextPattern, behavior: SplitBehavior, invert: Bool)
    case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme, split: Bool)
    case whitespace
    case whitespaceSplit
    case digits(individual: Bool)
    case punctuation(SplitBehavior)
    case bert
    case sequence([PreTokenizer])

    /// Decodes a pre-tokenizer object; unknown types throw `unsupportedType`.
    init(json: JSONValue, reader: ConfigReader) throws(TokenizerError) {
        let type = try reader.type(of: json, component: "pre_tokenizer")
        let component = "pre_tokenizer.\(type)"
        switch type {
        case "ByteLevel":
            self = .byteLevel(
                addPrefixSpace: try reader.bool(json, "add_prefix_space", default: true, in: component),
                useRegex: try reader.bool(json, "use_regex", default: true, in: component))
        case "Split":
            self = .split(
                try reader.pattern(json, "pattern", in: component),
                behavior: try SplitBehavior(json: json, reader: reader, component: component),
                invert: try reader.bool(json, "invert", default: false, in: component))
        case "Metaspace":
            self = .metaspace(
                replacement: try reader.scalar(json, "replacement", in: component),
                prependScheme: try Self.prependScheme(json, reader: reader, component: component),
                split: try reader.bool(json, "split", default: true, in: component))
        case "Whitespace": self = .whitespace
        case "WhitespaceSplit": self = .whitespaceSplit
        case "BertPreTokenizer": self = .bert
        case "Digits":
            self = .digits(individual: try reader.bool(json, "individual_digits", default: false, in: component))
        case "Punctuation":
            self = .punctuation(try SplitBehavior(json: json, reader: reader, component: component, default: .isolated))
        case "Sequence":
            var steps: [PreTokenizer] = []
            for item in try reader.array(json, "pretokenizers", in: component) {
                steps.append(try PreTokenizer(json: item, reader: reader))
            }
            self = .sequence(steps)
        default:
            throw .unsupported("pre_tokenizer", type: type, path: reader.path)
        }
    }

    /// Reads `prepend_scheme`, or the legacy `add_prefix_space` flag, of Metaspace objects.
    static func prependScheme(_ json: JSONValue, reader: ConfigReader, component: String) throws(TokenizerError)
        -> PrependScheme
    {
        if let scheme = try reader.optionalString(json, "prepend_scheme", in: component) {
            switch scheme {
            case "first": return .first
            case "always": return .always
            case "never": return .never
            default: throw .invalidValue("\(component).prepend_scheme", "unknown scheme '\(scheme)'", path: reader.path)
            }
        }
        return try reader.bool(json, "add_prefix_space", default: true, in: component) ? .always : .never
    }

    /// Splits every piece; empty results are dropped.
    func preTokenize(_ pieces: [TextPiece]) -> [TextPiece] {
        if case .sequence(let steps) = self {
            return steps.reduce(pieces) { $1.preTokenize($0) }
        }
        var result: [TextPiece] = []
        result.reserveCapacity(pieces.count * 4)
        for piece in pieces { split(piece, into: &result) }
        return result
    }

    private func split(_ piece: TextPiece, into result: inout [TextPiece]) {
        switch self {
        case .byteLevel(let addPrefixSpace, let useRegex):
            var piece = piece
            if addPrefixSpace && piece.scalars.first != " " { piece.scalars.insert(" ", at: 0) }
            let start = result.count
            if useRegex {
                let matches = WellKnownPattern.gpt2.matches(in: piece.scalars)
                SplitBehavior.isolated.split(piece, matches: matches, invert: false, into: &result)
            } else if !piece.scalars.isEmpty {
                result.append(piece)
            }
            for index in start..<result.count { result[index].scalars = ByteLevel.encode(result[index].scalars) }
        case .split(let pattern, let behavior, let invert):
            behavior.split(piece, matches: pattern.matches(in: piece.scalars), invert: invert, into: &result)
        case .metaspace(let replacement, let scheme, let split):
            var piece = piece
            for index in piece.scalars.indices where piece.scalars[index] == " " { piece.scalars[index] = replacement }
            let shouldPrepend: Bool
            switch scheme {
            case .always: shouldPrepend = piece.scalars.first != replacement
            case .first: shouldPrepend = piece.scalars.first != replacement && piece.startsAtOrigin
            case .never: shouldPrepend = false
            }
            if shouldPrepend { piece.scalars.insert(replacement, at: 0) }
            if split {
                let matches = piece.scalars.indices.filter { piece.scalars[$0] == replacement }.map { $0..<$0 + 1 }
                SplitBehavior.mergedWithNext.split(piece, matches: matches, invert: false, into: &result)
            } else if !piece.scalars.isEmpty {
                result.append(piece)
            }
        case .whitespace:
            SplitBehavior.removed.split(piece, matches: Self.wordRuns(piece.scalars), invert: true, into: &result)
        case .whitespaceSplit:
            let matches = piece.scalars.indices.filter { piece.scalars[$0].isWhitespaceScalar }.map { $0..<$0 + 1 }
            SplitBehavior.removed.split(piece, matches: matches, invert: false, into: &result)
        case .digits(let individual):
            let matches = piece.scalars.indices.filter { ScalarClass.of(piece.scalars[$0]) == .number }.map { $0..<$0 + 1 }
            let behavior: SplitBehavior = individual ? .isolated : .contiguous
            behavior.split(piece, matches: matches, invert: false, into: &result)
        case .punctuation(let behavior):
            let matches = piece.scalars.indices.filter { Self.isPunctuation(piece.scalars[$0]) }.map { $0..<$0 + 1 }
            behavior.split(piece, matches: matches, invert: false, into: &result)
        case .bert:
            var words: [TextPiece] = []
            PreTokenizer.whitespaceSplit.split(piece, into: &words)
            for word in words { PreTokenizer.punctuation(.isolated).split(word, into: &result) }
        case .sequence:
            result.append(contentsOf: preTokenize([piece]))
        }
    }

    /// Matches of `\w+|[^\w\s]+` (the Whitespace pre-tokenizer).
    private static func wordRuns(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var index = 0
        while index < scalars.count {
            if scalars[index].isWhitespaceScalar {
                index += 1
                continue
            }
            let isWord = isRegexWord(scalars[index])
            let start = index
            while index < scalars.count && !scalars[index].isWhitespaceScalar && isRegexWord(scalars[index]) == isWord {
                index += 1
            }
            result.append(start..<index)
        }
        return result
    }

    /// Oniguruma's Unicode `\w`: alphabetic, marks, decimal digits, connector punctuation.
    private static func isRegexWord(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    /// Rust's `is_ascii_punctuation() || is_punctuation()` as used by the Punctuation pre-tokenizer.
    private static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 {
            return scalar.properties.generalCategory != .control && !scalar.properties.isAlphabetic
                && !(0x30...0x39).contains(scalar.value) && scalar != " "
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }
}
