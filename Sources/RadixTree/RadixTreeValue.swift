// RadixServe: the value protocol stored on radix-tree edges.

/// A value attached to one edge (node) of a ``RadixTree``.
///
/// An edge covers a whole number of pages of tokens. When the tree splits an edge at a page
/// boundary it asks the value to split too, so per-page data (page ids, page hashes) stays
/// aligned with the tokens. Values without per-page data (a set of worker ids, say) return a
/// copy of themselves for both halves.
public protocol RadixTreeValue {
    /// Splits the value of an edge at a page boundary.
    ///
    /// - Precondition: `0 < pageIndex < pages on the edge`.
    /// - Returns: the value for pages `[0, pageIndex)` and the value for `[pageIndex, end)`.
    func split(atPage pageIndex: Int) -> (prefix: Self, suffix: Self)
}
