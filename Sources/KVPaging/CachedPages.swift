// RadixServe: the radix-tree value of the worker's prefix cache.

import RadixTree

/// The page ids and chained page hashes of one radix-tree edge, one entry per page.
package struct CachedPages: RadixTreeValue, Hashable, Sendable {
    /// Page ids, in token order.
    package var pages: [Int32]
    /// ``PageHasher`` hashes of the same pages.
    package var hashes: [UInt64]

    /// Creates a value. Precondition: both arrays have the same length.
    package init(pages: [Int32], hashes: [UInt64]) {
        precondition(pages.count == hashes.count)
        self.pages = pages
        self.hashes = hashes
    }

    package func split(atPage pageIndex: Int) -> (prefix: CachedPages, suffix: CachedPages) {
        (
            CachedPages(pages: Array(pages[..<pageIndex]), hashes: Array(hashes[..<pageIndex])),
            CachedPages(pages: Array(pages[pageIndex...]), hashes: Array(hashes[pageIndex...]))
        )
    }
}
