// RadixServe: generated token ids to client text, incrementally.

import Tokenizers

/// Detokenizes a request's output as it streams, applies stop strings, and keeps the totals.
/// Special tokens (e.g. the end-of-turn token) are not part of the text.
package struct OutputTextStream: Sendable {
    private var detokenizer: StreamingDetokenizer
    private var stops: StopStringMatcher
    /// Every generated token id so far.
    package private(set) var tokenIDs: [Int32] = []
    /// Everything emitted so far.
    package private(set) var text = ""

    /// Creates a stream for one request.
    package init(tokenizer: any Tokenizer, stopStrings: [String]) {
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: true)
        stops = StopStringMatcher(stopStrings)
    }

    /// The stop string that ended the text, if one did.
    package var matchedStop: String? { stops.matched }

    /// Adds tokens; returns the text that became final (possibly empty).
    package mutating func append(_ ids: [Int32]) -> String {
        var piece = ""
        for id in ids where stops.matched == nil {
            tokenIDs.append(id)
            piece += stops.append(detokenizer.append(Int(id)))
        }
        text += piece
        return piece
    }

    /// Flushes what is held back at the end of the request.
    package mutating func finish() -> String {
        let tail = stops.matched == nil ? stops.append(detokenizer.finish()) + stops.finish() : ""
        text += tail
        return tail
    }
}
