// Normalizers from `tokenizer.json` (`normalizer` field).
// Mirrors HF tokenizers normalizers/{unicode,replace,strip,prepend,utils}.rs.

import Foundation
import OrderedJSON

/// A text normalization step applied to each piece of input between added tokens.
indirect enum Normalizer: Sendable {
    case nfc
    case nfd
    case nfkc
    case nfkd
    case lowercase
    case prepend([Unicode.Scalar])
    case replace(TextPattern, content: [Unicode.Scalar])
    case strip(left: Bool, right: Bool)
    case stripAccents
    case sequence([Normalizer])

    /// Decodes a normalizer object; unknown types throw `unsupportedType`.
    init(json: JSONValue, reader: ConfigReader) throws(TokenizerError) {
        let type = try reader.type(of: json, component: "normalizer")
        switch type {
        case "NFC": self = .nfc
        case "NFD": self = .nfd
        case "NFKC": self = .nfkc
        case "NFKD": self = .nfkd
        case "Lowercase": self = .lowercase
        case "StripAccents": self = .stripAccents
        case "Prepend":
            self = .prepend(Array(try reader.string(json, "prepend", in: "normalizer.Prepend").unicodeScalars))
        case "Replace":
            let pattern = try reader.pattern(json, "pattern", in: "normalizer.Replace")
            let content = try reader.string(json, "content", in: "normalizer.Replace")
            self = .replace(pattern, content: Array(content.unicodeScalars))
        case "Strip":
            self = .strip(
                left: try reader.bool(json, "strip_left", default: true, in: "normalizer.Strip"),
                right: try reader.bool(json, "strip_right", default: true, in: "normalizer.Strip"))
        case "Sequence":
            var steps: [Normalizer] = []
            for item in try reader.array(json, "normalizers", in: "normalizer.Sequence") {
                steps.append(try Normalizer(json: item, reader: reader))
            }
            self = .sequence(steps)
        default:
            throw .unsupported("normalizer", type: type, path: reader.path)
        }
    }

    /// Normalizes `piece` in place.
    func normalize(_ piece: inout TextPiece) {
        switch self {
        case .nfc:
            if piece.scalars.allSatisfy({ $0.value < 0x300 }) { return }
            piece.scalars = Self.transform(piece.scalars) { $0.precomposedStringWithCanonicalMapping }
        case .nfd:
            if piece.scalars.allSatisfy({ $0.value < 0x80 }) { return }
            piece.scalars = Self.transform(piece.scalars) { $0.decomposedStringWithCanonicalMapping }
        case .nfkc:
            if piece.scalars.allSatisfy({ $0.value < 0x80 }) { return }
            piece.scalars = Self.transform(piece.scalars) { $0.precomposedStringWithCompatibilityMapping }
        case .nfkd:
            if piece.scalars.allSatisfy({ $0.value < 0x80 }) { return }
            piece.scalars = Self.transform(piece.scalars) { $0.decomposedStringWithCompatibilityMapping }
        case .lowercase:
            var result: [Unicode.Scalar] = []
            result.reserveCapacity(piece.scalars.count)
            for scalar in piece.scalars {
                if scalar.value < 0x80 {
                    let value = scalar.value
                    result.append(value >= 0x41 && value <= 0x5A ? Unicode.Scalar(value + 0x20)! : scalar)
                } else {
                    result.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                }
            }
            piece.scalars = result
        case .prepend(let prefix):
            if !piece.scalars.isEmpty { piece.scalars.insert(contentsOf: prefix, at: 0) }
        case .replace(let pattern, let content):
            piece.scalars = Self.replace(piece.scalars, pattern: pattern, with: content)
        case .strip(let left, let right):
            var lower = 0
            var upper = piece.scalars.count
            if left { while lower < upper && piece.scalars[lower].isWhitespaceScalar { lower += 1 } }
            if right { while upper > lower && piece.scalars[upper - 1].isWhitespaceScalar { upper -= 1 } }
            if lower > 0 { piece.startsAtOrigin = false }
            if lower > 0 || upper < piece.scalars.count { piece.scalars = Array(piece.scalars[lower..<upper]) }
        case .stripAccents:
            piece.scalars.removeAll { $0.properties.generalCategory == .nonspacingMark }
        case .sequence(let steps):
            for step in steps { step.normalize(&piece) }
        }
    }

    /// Normalized form of a whole string (used for added-token contents).
    func normalize(_ text: String) -> [Unicode.Scalar] {
        var piece = TextPiece(scalars: Array(text.unicodeScalars), startsAtOrigin: true)
        normalize(&piece)
        return piece.scalars
    }

    private static func transform(_ scalars: [Unicode.Scalar], _ body: (String) -> String) -> [Unicode.Scalar] {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return Array(body(String(view)).unicodeScalars)
    }

    /// Replaces every match of `pattern` with `content`.
    static func replace(
        _ scalars: [Unicode.Scalar], pattern: TextPattern, with content: [Unicode.Scalar]
    ) -> [Unicode.Scalar] {
        let matches = pattern.matches(in: scalars)
        if matches.isEmpty { return scalars }
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(scalars.count + matches.count * content.count)
        var previous = 0
        for match in matches {
            result.append(contentsOf: scalars[previous..<match.lowerBound])
            result.append(contentsOf: content)
            previous = match.upperBound
        }
        result.append(contentsOf: scalars[previous...])
        return result
    }
}
