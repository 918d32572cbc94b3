import RadixTree
import ServingTypes
import Testing
import TestSupport

/// Randomized operations against a brute-force model: the set of stored page-aligned prefixes.
@Suite struct RadixTreePropertyTests {
    struct Model {
        var stored: Set<[Int32]> = []
        let pageSize: Int

        mutating func insert(_ key: [Int32]) {
            for pages in stride(from: pageSize, through: key.count, by: pageSize) {
                stored.insert(Array(key[..<pages]))
            }
        }

        func prefixLength(_ key: [Int32]) -> Int {
            var best = 0
            for pages in stride(from: pageSize, through: key.count - key.count % pageSize, by: pageSize)
            where stored.contains(Array(key[..<pages])) {
                best = pages
            }
            return best
        }
    }

    static func randomKey(_ generator: inout SeededRandom, pageSize: Int, partial: Bool) -> [Int32] {
        // A tiny alphabet and short keys make shared prefixes and splits frequent.
        let pages = Int.random(in: 0...5, using: &generator)
        var key = (0..<pages * pageSize).map { _ in Int32.random(in: 0..<3, using: &generator) }
        if partial { key += (0..<Int.random(in: 0..<pageSize, using: &generator)).map { _ in 1 } }
        return key
    }

    static func fullKey<V>(_ tree: RadixTree<V>, _ node: RadixNodeID) -> [Int32] {
        tree.path(to: node).flatMap { tree.key(of: $0) }
    }

    @Test(arguments: [1, 2, 4])
    func randomOperationsKeepInvariantsAndMatchModel(pageSize: Int) throws {
        var generator = SeededRandom(seed: 0xC0FFEE &+ UInt64(pageSize))
        var tree = RadixTree<PageLabels>(pageSize: pageSize)
        var model = Model(pageSize: pageSize)
        var locks: [RadixNodeID] = []
        var now: UInt64 = 0
        for _ in 0..<4000 {
            now += 1
            switch Int.random(in: 0..<10, using: &generator) {
            case 0...2:
                let key = Self.randomKey(&generator, pageSize: pageSize, partial: false)
                let result = tree.insertLabelled(key, now: now)
                #expect(result.existingLength == model.prefixLength(key))
                model.insert(key)
            case 3...4:
                let key = Self.randomKey(&generator, pageSize: pageSize, partial: true)
                let expected = model.prefixLength(key)
                #expect(tree.prefixLength(of: key[...]) == expected)
                let match = tree.match(key[...], now: now)
                #expect(match.matchedLength == expected)
                #expect(tree.depth(of: match.node) == expected)
                #expect(Self.fullKey(tree, match.node) == Array(key[..<expected]))
                if Bool.random(using: &generator) {
                    tree.lock(match.node)
                    locks.append(match.node)
                }
            case 5:
                if let index = locks.indices.randomElement(using: &generator) {
                    tree.unlock(locks.remove(at: index))
                }
            case 6...7:
                if let leaf = tree.evictableLeaves().randomElement(using: &generator) {
                    let key = Self.fullKey(tree, leaf)
                    let edge = tree.key(of: leaf).count
                    tree.removeLeaf(leaf)
                    for length in stride(from: key.count - edge + pageSize, through: key.count, by: pageSize) {
                        model.stored.remove(Array(key[..<length]))
                    }
                }
            default:
                let freed = tree.evictLeastRecentlyUsed(pageCount: Int.random(in: 1...3, using: &generator)) { node, _ in
                    #expect(!locks.contains(node))
                }
                _ = freed
                model.stored = Set(tree.allStoredPrefixes())
            }
            try tree.checkIntegrity()
            #expect(tree.pageCount == model.stored.count)
        }
    }
}

extension RadixTree {
    /// Every stored page-aligned prefix, rebuilt from the tree (for resyncing the model).
    func allStoredPrefixes() -> [[Int32]] {
        var result: [[Int32]] = []
        var stack: [(RadixNodeID, [Int32])] = [(.root, [])]
        while let (node, prefix) = stack.popLast() {
            for child in children(of: node) {
                let full = prefix + key(of: child)
                for length in stride(from: prefix.count + pageSize, through: full.count, by: pageSize) {
                    result.append(Array(full[..<length]))
                }
                stack.append((child, full))
            }
        }
        return result
    }
}
