import PageHashing
import ServingTypes

/// The scripted worker's prefix cache: whole pages by chain hash, stored in order.
struct ScriptedCache {
    let hasher: PageHasher
    /// Hash the first page of a chain without its namespace (a fault).
    let dropsNamespace: Bool
    private var held: [UInt64: CachedChain] = [:]
    private var order: [UInt64] = []

    init(hasher: PageHasher, dropsNamespace: Bool) {
        self.hasher = hasher
        self.dropsNamespace = dropsNamespace
    }

    var count: Int { held.count }

    func chain(_ tokens: [Int32], namespace: UInt64) -> [UInt64] {
        guard dropsNamespace, tokens.count >= hasher.pageSize else { return hasher.chain(tokens[...], namespace: namespace) }
        let first = hasher.pageHash(tokens[0..<hasher.pageSize], parent: hasher.seed)
        return [first] + hasher.chain(tokens[hasher.pageSize...], namespace: namespace, parent: first)
    }

    /// Prompt tokens served from cache: whole cached pages, never the last prompt token.
    func cachedTokens(_ prompt: [Int32], namespace: UInt64) -> Int {
        let pageSize = hasher.pageSize
        let hits = chain(prompt, namespace: namespace).prefix { held[$0] != nil }.count
        return min(hits * pageSize, (prompt.count - 1) / pageSize * pageSize)
    }

    /// Stores the whole pages of `tokens` not held yet; the `stored` event, if any.
    mutating func store(_ tokens: [Int32], namespace: UInt64) -> CacheEvent? {
        let hashes = chain(tokens, namespace: namespace)
        guard let start = hashes.firstIndex(where: { held[$0] == nil }) else { return nil }
        var parent = start == 0 ? nil : hashes[start - 1]
        for hash in hashes[start...] {
            held[hash] = CachedChain(namespace: namespace, parentHash: parent, pageHashes: [hash])
            order.append(hash)
            parent = hash
        }
        return .stored(namespace: namespace, parentHash: start == 0 ? nil : hashes[start - 1], pageHashes: Array(hashes[start...]))
    }

    /// Drops everything; the `cleared` event, if anything was held.
    mutating func clear() -> CacheEvent? {
        guard !held.isEmpty else { return nil }
        held.removeAll()
        order.removeAll()
        return .cleared
    }

    /// Every page as a one-page chain, parents first.
    var chains: [CachedChain] { order.map { held[$0]! } }
}
