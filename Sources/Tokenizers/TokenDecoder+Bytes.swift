// RadixServe: the bytes one token contributes to decoded text (for structured-output masks).

extension TokenDecoder {
    /// Text or raw bytes while the decoder steps run over one token.
    private enum Piece {
        case text(String)
        case bytes([UInt8])
    }

    /// The bytes `token` adds when it is decoded in the middle of a sequence (no first-token
    /// prefix stripping), or nil when this decoder has no per-token byte meaning (WordPiece,
    /// BPE suffixes). Byte-level tokens map through GPT-2's byte table, `<0xNN>` byte-fallback
    /// tokens become their byte, Metaspace's `▁` a space.
    func bytes(ofMiddleToken token: String) -> [UInt8]? {
        var pieces: [Piece] = [.text(token)]
        var isFused = false
        guard apply(to: &pieces, isFused: &isFused) else { return nil }
        var bytes: [UInt8] = []
        for piece in pieces {
            switch piece {
            case .text(let text): bytes += Array(text.utf8)
            case .bytes(let raw): bytes += raw
            }
        }
        return bytes
    }

    private func apply(to pieces: inout [Piece], isFused: inout Bool) -> Bool {
        func mapText(_ transform: (String) -> Piece) {
            pieces = pieces.map { piece in
                if case .text(let text) = piece { return transform(text) }
                return piece
            }
        }
        switch self {
        case .byteLevel:
            mapText { text in
                var bytes: [UInt8] = []
                ByteLevel.decodeBytes(of: text, into: &bytes)
                return .bytes(bytes)
            }
        case .metaspace(let replacement, _):
            mapText { text in
                var view = String.UnicodeScalarView()
                for scalar in text.unicodeScalars { view.append(scalar == replacement ? " " : scalar) }
                return .text(String(view))
            }
        case .replace(let pattern, let content):
            mapText { text in
                .text(String(String.UnicodeScalarView(Normalizer.replace(Array(text.unicodeScalars), pattern: pattern, with: content))))
            }
        case .byteFallback:
            mapText { text in Self.byteValue(of: text).map { .bytes([$0]) } ?? .text(text) }
        case .fuse:
            isFused = true
        case .strip:
            // After a fuse it trims the ends of the whole text, which a middle token never is.
            if !isFused, case .text(let text)? = pieces.first, pieces.count == 1 {
                pieces = decodeChain([text]).map { .text($0) }
            }
        case .wordPiece, .bpeSuffix:
            return false
        case .sequence(let steps):
            for step in steps where !step.apply(to: &pieces, isFused: &isFused) { return false }
        }
        return true
    }
}
