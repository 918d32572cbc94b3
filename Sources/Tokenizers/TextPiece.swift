// The unit of text flowing through normalization and pre-tokenization.

/// A piece of the input between added tokens, or a sub-piece made by a pre-tokenizer.
struct TextPiece: Sendable {
    /// The (normalized, pre-tokenized) text.
    var scalars: [Unicode.Scalar]
    /// True when the piece begins at offset 0 of the original input; Metaspace's
    /// `prepend_scheme: first` only prepends to such a piece.
    var startsAtOrigin: Bool
}
