// RadixServe: invariants of RadixPrefixCache.

import PageHashing
import RadixTree

extension RadixPrefixCache {
    /// Verifies, throwing the first violation:
    /// - the pool's own invariants (free + cached + in use == total);
    /// - each tree's structure and lock counts;
    /// - every edge has one page id and one hash per page, and the hashes are the
    ///   ``PageHasher`` chain of the edge's tokens;
    /// - every indexed page is marked cached, and appears exactly once across all trees;
    /// - the pool's cached count equals the number of indexed pages.
    ///
    /// O(cached tokens + pool pages); meant for tests and debug builds.
    public func checkIntegrity() throws(IntegrityViolation) {
        try pool.checkIntegrity()
        var seen = Set<Int32>()
        for (namespace, tree) in trees {
            try tree.checkIntegrity()
            guard !tree.isEmpty else { throw IntegrityViolation("empty tree kept for namespace \(namespace)") }
            for node in tree.allNodes() {
                let value = tree.value(of: node)!
                let key = tree.key(of: node)
                guard value.pages.count == key.count / pageSize, value.hashes.count == value.pages.count else {
                    throw IntegrityViolation("\(node) in namespace \(namespace): value length mismatch")
                }
                let parent = tree.parent(of: node).flatMap { tree.value(of: $0)?.hashes.last }
                guard hasher.chain(key[...], namespace: namespace, parent: parent) == value.hashes else {
                    throw IntegrityViolation("\(node) in namespace \(namespace): hash chain mismatch")
                }
                for page in value.pages {
                    guard page >= 0, Int(page) < pool.pageCount, pool.isCached(page) else {
                        throw IntegrityViolation("page \(page) indexed but not cached in the pool")
                    }
                    guard seen.insert(page).inserted else {
                        throw IntegrityViolation("page \(page) indexed more than once")
                    }
                }
            }
        }
        guard seen.count == pool.cachedPageCount else {
            throw IntegrityViolation("tree pages \(seen.count) != pool cached pages \(pool.cachedPageCount)")
        }
    }
}
