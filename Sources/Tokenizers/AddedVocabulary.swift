// Added tokens (`added_tokens` in tokenizer.json) and how they split the input.
// Mirrors HF tokenizers tokenizer/added_vocabulary.rs (find_matches, extract_and_normalize).

import OrderedJSON

/// One entry of `added_tokens`.
struct AddedToken: Sendable {
    let id: Int
    let content: String
    let isSpecial: Bool
    let isSingleWord: Bool
    let stripsLeft: Bool
    let stripsRight: Bool
    let isNormalized: Bool
}

/// A segment of the input: either text for the model or an already-resolved added token.
enum InputSegment: Sendable {
    case text(TextPiece)
    case token(Int)
}

/// The added tokens of a tokenizer and the two matchers built from them: one over raw
/// text (tokens with `normalized: false`) and one over normalized text.
struct AddedVocabulary: Sendable {
    let tokens: [AddedToken]
    let idToContent: [Int: String]
    let contentToID: [[Unicode.Scalar]: Int]
    private let rawMatcher: TokenMatcher
    private let normalizedMatcher: TokenMatcher

    init(json: [JSONValue], normalizer: Normalizer?, reader: ConfigReader) throws(TokenizerError) {
        var tokens: [AddedToken] = []
        for item in json {
            let component = "added_tokens"
            tokens.append(
                AddedToken(
                    id: try reader.tokenID(item, "id", in: component),
                    content: try reader.string(item, "content", in: component),
                    isSpecial: try reader.bool(item, "special", default: false, in: component),
                    isSingleWord: try reader.bool(item, "single_word", default: false, in: component),
                    stripsLeft: try reader.bool(item, "lstrip", default: false, in: component),
                    stripsRight: try reader.bool(item, "rstrip", default: false, in: component),
                    isNormalized: try reader.bool(item, "normalized", default: true, in: component)))
        }
        self.tokens = tokens
        var idToContent: [Int: String] = [:]
        var contentToID: [[Unicode.Scalar]: Int] = [:]
        for token in tokens {
            idToContent[token.id] = token.content
            contentToID[Array(token.content.unicodeScalars)] = token.id
        }
        self.idToContent = idToContent
        self.contentToID = contentToID
        rawMatcher = TokenMatcher(
            tokens.filter { !$0.isNormalized }.map { (Array($0.content.unicodeScalars), $0) })
        normalizedMatcher = TokenMatcher(
            tokens.filter { $0.isNormalized }.map { token in
                (normalizer?.normalize(token.content) ?? Array(token.content.unicodeScalars), token)
            })
    }

    /// Splits `text` on added tokens, normalizing the text between them.
    ///
    /// Raw-text tokens are found first, then each remaining piece is normalized and searched
    /// for normalized tokens. Empty pieces are dropped.
    func segment(_ text: [Unicode.Scalar], normalizer: Normalizer?) -> [InputSegment] {
        var result: [InputSegment] = []
        for (range, id) in rawMatcher.split(text) {
            if let id {
                result.append(.token(id))
                continue
            }
            var piece = TextPiece(scalars: Array(text[range]), startsAtOrigin: range.lowerBound == 0)
            normalizer?.normalize(&piece)
            for (subrange, subID) in normalizedMatcher.split(piece.scalars) {
                if let subID {
                    result.append(.token(subID))
                } else if !subrange.isEmpty {
                    result.append(
                        .text(
                            TextPiece(
                                scalars: Array(piece.scalars[subrange]),
                                startsAtOrigin: piece.startsAtOrigin && subrange.lowerBound == 0)))
                }
            }
        }
        return result
    }
}

/// Leftmost-longest matcher over a set of added tokens, applying their strip/word rules.
private struct TokenMatcher: Sendable {
    /// Candidates by first scalar, longest first.
    private let byFirstScalar: [Unicode.Scalar: [(pattern: [Unicode.Scalar], token: AddedToken)]]

    init(_ entries: [([Unicode.Scalar], AddedToken)]) {
        var table: [Unicode.Scalar: [(pattern: [Unicode.Scalar], token: AddedToken)]] = [:]
        for (pattern, token) in entries where !pattern.isEmpty {
            table[pattern[0], default: []].append((pattern, token))
        }
        for key in table.keys { table[key]!.sort { $0.pattern.count > $1.pattern.count } }
        byFirstScalar = table
    }

    /// Covers `text` with ranges, each either plain text (nil) or an added token id.
    func split(_ text: [Unicode.Scalar]) -> [(Range<Int>, Int?)] {
        if byFirstScalar.isEmpty || text.isEmpty { return [(0..<text.count, nil)] }
        var result: [(Range<Int>, Int?)] = []
        var consumed = 0
        var index = 0
        while index < text.count {
            guard let candidates = byFirstScalar[text[index]],
                let match = candidates.first(where: { Self.hasPrefix(text, at: index, $0.pattern) })
            else {
                index += 1
                continue
            }
            var start = index
            var stop = index + match.pattern.count
            index = stop
            let token = match.token
            if token.isSingleWord {
                let startsWord = start == 0 || !text[start - 1].isWordScalar
                let endsWord = stop == text.count || !text[stop].isWordScalar
                if !startsWord || !endsWord { continue }
            }
            if token.stripsLeft {
                var newStart = start
                while newStart > 0 && text[newStart - 1].isWhitespaceScalar { newStart -= 1 }
                start = max(newStart, consumed)
            }
            if token.stripsRight {
                while stop < text.count && text[stop].isWhitespaceScalar { stop += 1 }
                index = stop
            }
            if consumed < start { result.append((consumed..<start, nil)) }
            result.append((start..<stop, token.id))
            consumed = stop
        }
        if consumed != text.count { result.append((consumed..<text.count, nil)) }
        return result
    }

    private static func hasPrefix(_ text: [Unicode.Scalar], at index: Int, _ pattern: [Unicode.Scalar]) -> Bool {
        guard index + pattern.count <= text.count else { return false }
        for offset in 0..<pattern.count where text[index + offset] != pattern[offset] { return false }
        return true
    }
}
