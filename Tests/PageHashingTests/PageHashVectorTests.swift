import Foundation
import PageHashing
import Testing

/// The page-hash chains published in `docs/wire-vectors/page-hash-chains.json` (and tabled in
/// docs/WIRE_PROTOCOL.md), computed independently with python-xxhash: ``PageHasher`` must give them.
@Suite struct PageHashVectorTests {
    struct Vector: Sendable {
        var pageSize: Int
        var seed: UInt64
        var namespace: UInt64
        var tokens: [Int32]
        var hashes: [UInt64]
    }

    static func vectors() throws -> [Vector] {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/wire-vectors/page-hash-chains.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let entries = try #require(root?["vectors"] as? [[String: Any]])
        func u64(_ value: Any?) throws -> UInt64 {
            let text = try #require(value as? String)
            return try #require(UInt64(text.dropFirst(2), radix: 16))
        }
        return try entries.map { entry in
            Vector(
                pageSize: try #require(entry["page_size"] as? Int), seed: try u64(entry["hash_seed"]),
                namespace: try u64(entry["namespace"]),
                tokens: try #require(entry["tokens"] as? [Int]).map { Int32($0) },
                hashes: try #require(entry["page_hashes"] as? [Any]).map(u64))
        }
    }

    @Test func publishedChainsMatchPageHasher() throws {
        let vectors = try Self.vectors()
        #expect(vectors.count >= 5)
        for vector in vectors {
            let hasher = PageHasher(seed: vector.seed, pageSize: vector.pageSize)
            #expect(hasher.chain(vector.tokens[...], namespace: vector.namespace) == vector.hashes)
        }
    }

    @Test func chainContinuesFromAParentAsIfUnbroken() throws {
        let vector = try Self.vectors()[0]
        let hasher = PageHasher(seed: vector.seed, pageSize: vector.pageSize)
        let tail = hasher.chain(vector.tokens[vector.pageSize...], namespace: 99, parent: vector.hashes[0])
        #expect(tail == Array(vector.hashes.dropFirst()))
    }
}
