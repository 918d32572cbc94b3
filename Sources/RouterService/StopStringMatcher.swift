// RadixServe: stop strings over streamed text.

import Foundation

/// Finds the first occurrence of any stop string in text that arrives in pieces, releasing
/// only text that can no longer be the start of a stop string.
///
/// The stop string itself is never emitted (OpenAI semantics). A value type; one per request.
package struct StopStringMatcher: Sendable {
    private let stops: [String]
    private let longest: Int
    /// Received but not yet released (it could begin a stop string).
    private var held = ""
    /// Set once a stop string matched; nothing more is emitted.
    package private(set) var matched: String?

    /// Creates a matcher; empty strings are ignored.
    package init(_ stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }
        longest = self.stops.map(\.count).max() ?? 0
    }

    /// Adds `text` and returns what is safe to emit now.
    package mutating func append(_ text: String) -> String {
        guard matched == nil else { return "" }
        guard longest > 0 else { return text }
        held += text
        var firstMatch: (range: Range<String.Index>, stop: String)?
        for stop in stops {
            if let range = held.range(of: stop), firstMatch.map({ range.lowerBound < $0.range.lowerBound }) ?? true {
                firstMatch = (range, stop)
            }
        }
        if let firstMatch {
            matched = firstMatch.stop
            let released = String(held[..<firstMatch.range.lowerBound])
            held = ""
            return released
        }
        // Keep the longest tail that is a proper prefix of some stop string.
        var keep = 0
        for length in stride(from: min(longest - 1, held.count), through: 1, by: -1) {
            let tail = held.suffix(length)
            if stops.contains(where: { $0.hasPrefix(tail) }) {
                keep = length
                break
            }
        }
        let released = String(held.dropLast(keep))
        held = String(held.suffix(keep))
        return released
    }

    /// The held text at the end of the stream (it did not turn into a stop string).
    package mutating func finish() -> String {
        defer { held = "" }
        return matched == nil ? held : ""
    }
}
