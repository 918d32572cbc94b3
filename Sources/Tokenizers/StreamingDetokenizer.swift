// Incremental decoding of generated tokens into text chunks.
// Same windowing idea as text-generation-inference's `decode_token` (prefix/read offsets).

/// Turns a stream of token ids into text chunks whose concatenation equals
/// `tokenizer.decode(allIDs, skipSpecialTokens:)`.
///
/// Each chunk is the text that became final with the last id. Text is held back while the
/// decoded tail ends in U+FFFD, i.e. while a UTF-8 character split across byte tokens is
/// incomplete, and while the last token is a byte-fallback token `<0xNN>`: the ByteFallback
/// decoder renders a whole run of byte tokens as U+FFFD when any byte in it is invalid, so a
/// run is final only once a non-byte token (or `finish()`) closes it. Decoding always re-runs the decoder over a short window that starts at the
/// last emitted token, so decoder rules that depend on position (Metaspace, Strip) give
/// the same text as a full decode. Memory and per-token cost stay bounded by the window.
///
/// A value type; not thread-safe: use one instance per request from a single thread.
public struct StreamingDetokenizer: Sendable {
    /// The tokenizer whose `decode` defines the expected text.
    public let tokenizer: any Tokenizer
    /// Whether special tokens are dropped, as in `decode(_:skipSpecialTokens:)`.
    public let skipSpecialTokens: Bool

    // window[0..<readIndex] was already emitted (the "prefix"); window[readIndex...] is pending.
    //
    //   window: [ t_p ... t_r-1 | t_r ... t_n-1 ]
    //             emitted prefix  | not yet emitted
    private var window: [Int] = []
    private var readIndex = 0

    /// Creates a detokenizer with no tokens.
    public init(tokenizer: any Tokenizer, skipSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Adds one token and returns the newly completed text (possibly empty).
    public mutating func append(_ id: Int) -> String {
        window.append(id)
        if let token = tokenizer.tokenString(for: id), Self.isByteToken(token) { return "" }
        let prefixText = tokenizer.decode(Array(window[..<readIndex]), skipSpecialTokens: skipSpecialTokens)
        let fullText = tokenizer.decode(window, skipSpecialTokens: skipSpecialTokens)
        guard fullText.utf8.count > prefixText.utf8.count, fullText.unicodeScalars.last != "\u{FFFD}",
            let chunk = Self.suffix(of: fullText, after: prefixText)
        else { return "" }
        window.removeFirst(readIndex)
        readIndex = window.count
        return chunk
    }

    /// Returns all text still held back (for example an incomplete UTF-8 sequence, which
    /// decodes to U+FFFD) and resets the detokenizer.
    public mutating func finish() -> String {
        defer {
            window.removeAll()
            readIndex = 0
        }
        let prefixText = tokenizer.decode(Array(window[..<readIndex]), skipSpecialTokens: skipSpecialTokens)
        let fullText = tokenizer.decode(window, skipSpecialTokens: skipSpecialTokens)
        if let chunk = Self.suffix(of: fullText, after: prefixText) { return chunk }
        // The decoder rewrote already-emitted text; emit what follows the common prefix.
        let common = zip(fullText.unicodeScalars, prefixText.unicodeScalars).prefix { $0 == $1 }.count
        return String(String.UnicodeScalarView(fullText.unicodeScalars.dropFirst(common)))
    }

    /// Whether `token` has the `<0xNN>` form of byte-fallback tokens.
    private static func isByteToken(_ token: String) -> Bool {
        let utf8 = token.utf8
        guard utf8.count == 6 else { return false }
        return utf8.starts(with: "<0x".utf8) && utf8.last == UInt8(ascii: ">")
    }

    /// `text` minus its byte-exact prefix `prefix`, or nil when `prefix` is not a prefix.
    private static func suffix(of text: String, after prefix: String) -> String? {
        guard text.utf8.starts(with: prefix.utf8) else { return nil }
        let start = text.utf8.index(text.utf8.startIndex, offsetBy: prefix.utf8.count)
        return String(text.utf8[start...])
    }
}
