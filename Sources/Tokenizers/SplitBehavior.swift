// How a Split-style pre-tokenizer treats the delimiters it finds.
// Mirrors HF tokenizers tokenizer/normalizer.rs (NormalizedString::split).

import OrderedJSON

/// What to do with each delimiter match when splitting a piece.
enum SplitBehavior: Sendable, Equatable {
    case removed
    case isolated
    case mergedWithPrevious
    case mergedWithNext
    case contiguous

    /// Reads the `behavior` field (or uses `fallback` when it is absent).
    init(json: JSONValue, reader: ConfigReader, component: String, default fallback: SplitBehavior? = nil)
        throws(TokenizerError)
    {
        if fallback != nil, json["behavior"]?.stringValue == nil {
            self = fallback!
            return
        }
        let name = try reader.string(json, "behavior", in: component)
        switch name {
        case "Removed": self = .removed
        case "Isolated": self = .isolated
        case "MergedWithPrevious": self = .mergedWithPrevious
        case "MergedWithNext": self = .mergedWithNext
        case "Contiguous": self = .contiguous
        default: throw .invalidValue("\(component).behavior", "unknown behavior '\(name)'", path: reader.path)
        }
    }

    /// Splits `piece` around `matches` (sorted, non-overlapping) and appends the non-empty parts.
    func split(_ piece: TextPiece, matches: [Range<Int>], invert: Bool, into result: inout [TextPiece]) {
        let text = piece.scalars
        guard !text.isEmpty else { return }
        // Segments covering the whole text, each flagged as a delimiter match or not.
        var segments: [(range: Range<Int>, isMatch: Bool)] = []
        segments.reserveCapacity(matches.count * 2 + 1)
        var previous = 0
        for match in matches {
            if previous != match.lowerBound { segments.append((previous..<match.lowerBound, invert)) }
            segments.append((match, !invert))
            previous = match.upperBound
        }
        if previous != text.count { segments.append((previous..<text.count, invert)) }

        var parts: [(range: Range<Int>, remove: Bool)] = []
        parts.reserveCapacity(segments.count)
        switch self {
        case .isolated:
            parts = segments.map { ($0.range, false) }
        case .removed:
            parts = segments.map { ($0.range, $0.isMatch) }
        case .contiguous:
            var previousMatch = false
            for segment in segments {
                if segment.isMatch == previousMatch, let last = parts.last {
                    parts[parts.count - 1].range = last.range.lowerBound..<segment.range.upperBound
                } else {
                    parts.append((segment.range, false))
                }
                previousMatch = segment.isMatch
            }
        case .mergedWithPrevious:
            var previousMatch = false
            for segment in segments {
                if segment.isMatch && !previousMatch, let last = parts.last {
                    parts[parts.count - 1].range = last.range.lowerBound..<segment.range.upperBound
                } else {
                    parts.append((segment.range, false))
                }
                previousMatch = segment.isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for segment in segments.reversed() {
                if segment.isMatch && !previousMatch, let last = parts.last {
                    parts[parts.count - 1].range = segment.range.lowerBound..<last.range.upperBound
                } else {
                    parts.append((segment.range, false))
                }
                previousMatch = segment.isMatch
            }
            parts.reverse()
        }
        for part in parts where !part.remove && !part.range.isEmpty {
            result.append(
                TextPiece(
                    scalars: Array(text[part.range]),
                    startsAtOrigin: piece.startsAtOrigin && part.range.lowerBound == 0))
        }
    }
}
