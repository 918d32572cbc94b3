// Decoders from `tokenizer.json` (`decoder` field).
// Mirrors HF tokenizers decoders/{byte_level,metaspace,replace,byte_fallback,fuse,strip,wordpiece}.rs.

import OrderedJSON

/// Turns token strings back into text. Each step maps a list of strings to a list of
/// strings (`decode_chain`); the final text is their concatenation.
indirect enum TokenDecoder: Sendable {
    case byteLevel
    case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme)
    case replace(TextPattern, content: [Unicode.Scalar])
    case byteFallback
    case fuse
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    case wordPiece(prefix: String, cleanup: Bool)
    case bpeSuffix(String)
    case sequence([TokenDecoder])

    /// Decodes a decoder object; unknown types throw `unsupportedType`.
    init(json: JSONValue, reader: ConfigReader) throws(TokenizerError) {
        let type = try reader.type(of: json, component: "decoder")
        let component = "decoder.\(type)"
        switch type {
        case "ByteLevel": self = .byteLevel
        case "Metaspace":
            self = .metaspace(
                replacement: try reader.scalar(json, "replacement", in: component),
                prependScheme: try PreTokenizer.prependScheme(json, reader: reader, component: component))
        case "Replace":
            self = .replace(
                try reader.pattern(json, "pattern", in: component),
                content: Array(try reader.string(json, "content", in: component).unicodeScalars))
        case "ByteFallback": self = .byteFallback
        case "Fuse": self = .fuse
        case "Strip":
            self = .strip(
                content: try reader.scalar(json, "content", in: component),
                start: try reader.int(json, "start", in: component),
                stop: try reader.int(json, "stop", in: component))
        case "WordPiece":
            self = .wordPiece(
                prefix: try reader.optionalString(json, "prefix", in: component) ?? "##",
                cleanup: try reader.bool(json, "cleanup", default: true, in: component))
        case "BPEDecoder":
            self = .bpeSuffix(try reader.optionalString(json, "suffix", in: component) ?? "</w>")
        case "Sequence":
            var steps: [TokenDecoder] = []
            for item in try reader.array(json, "decoders", in: component) {
                steps.append(try TokenDecoder(json: item, reader: reader))
            }
            self = .sequence(steps)
        default:
            throw .unsupported("decoder", type: type, path: reader.path)
        }
    }

    /// Decodes `tokens` to the final text.
    func decode(_ tokens: [String]) -> String {
        decodeChain(tokens).joined()
    }

    /// One decoding step over the token list.
    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            bytes.reserveCapacity(tokens.count * 4)
            for token in tokens { ByteLevel.decodeBytes(of: token, into: &bytes) }
            return [String(decoding: bytes, as: UTF8.self)]
        case .metaspace(let replacement, let scheme):
            return tokens.enumerated().map { index, token in
                var view = String.UnicodeScalarView()
                for scalar in token.unicodeScalars {
                    if scalar == replacement {
                        if index == 0 && scheme != .never { continue }
                        view.append(" ")
                    } else {
                        view.append(scalar)
                    }
                }
                return String(view)
            }
        case .replace(let pattern, let content):
            return tokens.map { token in
                let replaced = Normalizer.replace(Array(token.unicodeScalars), pattern: pattern, with: content)
                return String(String.UnicodeScalarView(replaced))
            }
        case .byteFallback:
            return Self.byteFallback(tokens)
        case .fuse:
            return [tokens.joined()]
        case .strip(let content, let start, let stop):
            return tokens.map { token in
                let scalars = Array(token.unicodeScalars)
                var lower = 0
                while lower < min(start, scalars.count) && scalars[lower] == content { lower += 1 }
                var upper = scalars.count
                var stripped = 0
                while stripped < stop && upper > lower && scalars[upper - 1] == content {
                    upper -= 1
                    stripped += 1
                }
                return String(String.UnicodeScalarView(scalars[lower..<upper]))
            }
        case .wordPiece(let prefix, let cleanup):
            return tokens.enumerated().map { index, token in
                var text = token
                if index != 0 {
                    if text.utf8.starts(with: prefix.utf8) {
                        text = String(decoding: text.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
                    } else {
                        text = " " + text
                    }
                }
                return cleanup ? Self.cleanUp(text) : text
            }
        case .bpeSuffix(let suffix):
            return tokens.enumerated().map { index, token in
                let separator = index == tokens.count - 1 ? "" : " "
                return token.replacingOccurrencesExactly(of: suffix, with: separator)
            }
        case .sequence(let steps):
            return steps.reduce(tokens) { $1.decodeChain($0) }
        }
    }

    /// Groups runs of `<0xNN>` tokens into UTF-8 text; an invalid run becomes one U+FFFD per byte.
    private static func byteFallback(_ tokens: [String]) -> [String] {
        var result: [String] = []
        result.reserveCapacity(tokens.count)
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let text = String(validating: pending, as: UTF8.self) {
                result.append(text)
            } else {
                result.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
            }
            pending.removeAll(keepingCapacity: true)
        }
        for token in tokens {
            if let byte = byteValue(of: token) {
                pending.append(byte)
            } else {
                flush()
                result.append(token)
            }
        }
        flush()
        return result
    }

    /// The byte of a `<0xNN>` token, or nil for any other token.
    static func byteValue(of token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, utf8[0] == UInt8(ascii: "<"), utf8[1] == UInt8(ascii: "0"),
            utf8[2] == UInt8(ascii: "x"), utf8[5] == UInt8(ascii: ">")
        else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }

    /// The WordPiece decoder's `cleanup` of spaces before punctuation and contractions.
    private static func cleanUp(_ text: String) -> String {
        let rules: [(String, String)] = [
            (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
            (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
        ]
        return rules.reduce(text) { $0.replacingOccurrencesExactly(of: $1.0, with: $1.1) }
    }
}

extension String {
    /// Replaces every non-overlapping occurrence of `target`, comparing scalars exactly.
    func replacingOccurrencesExactly(of target: String, with replacement: String) -> String {
        let replaced = Normalizer.replace(
            Array(unicodeScalars), pattern: .literal(Array(target.unicodeScalars)),
            with: Array(replacement.unicodeScalars))
        return String(String.UnicodeScalarView(replaced))
    }
}
