import PageHashing
import Testing

@Suite struct PageHashTests {
    // MARK: - XXH64 known answers (from the reference implementation, python-xxhash 3.x)

    static let xxh64Vectors: [(length: Int, seed: UInt64, hash: UInt64)] = [
        (0, 0, 0xef46_db37_51d8_e999),
        (31, 0, 0xc346_d2b5_9b4d_8ee1),
        (32, 0, 0xcbf5_9c51_16ff_32b4),
        (33, 42, 0x1c68_2d88_8481_1fdb),
        (64, 0, 0xf7c6_7301_db67_13f0),
        (100, 0xffff_ffff_ffff_ffff, 0x09a9_91a0_91c9_f6d7),
    ]

    @Test(arguments: xxh64Vectors.indices)
    func xxh64MatchesReferenceOnCountingBytes(index: Int) {
        let vector = Self.xxh64Vectors[index]
        let bytes = (0..<vector.length).map { UInt8($0) }
        #expect(XXH64.hash(bytes, seed: vector.seed) == vector.hash)
    }

    @Test func xxh64MatchesReferenceOnShortStrings() {
        #expect(XXH64.hash(Array("a".utf8)) == 0xd24e_c4f1_a98c_6e5b)
        #expect(XXH64.hash(Array("abc".utf8)) == 0x44bc_2cf5_ad77_0999)
        #expect(XXH64.hash(Array("abcd".utf8), seed: 1) == 0xf5dc_bd6d_ee3c_9553)
        #expect(XXH64.hash(Array("abcdefg".utf8)) == 0x1860_940e_2902_822d)
        #expect(XXH64.hash(Array("abcdefgh".utf8), seed: 0x9E37_79B9_7F4A_7C15) == 0x83e6_2f9b_9938_74d4)
    }

    // MARK: - Chains

    @Test func chainMatchesReferenceIncludingNegativeTokensAndPartialPage() {
        let hasher = PageHasher(seed: 0x1234, pageSize: 4)
        let tokens: [Int32] = [1, 2, 3, 4, 5, 6, 7, 8, -1, Int32.max, Int32.min, 0, 99]
        #expect(
            hasher.chain(tokens[...], namespace: 7) == [
                0x4df3_82d0_ac96_bbea, 0x351c_c140_44f9_ca78, 0xf33d_798e_ca1d_25f3,
            ])
    }

    @Test func chainMatchesReferenceForSixteenTokenPages() {
        let hasher = PageHasher(seed: 0, pageSize: 16)
        let tokens = (1000..<1048).map { Int32($0) }
        #expect(
            hasher.chain(tokens[...], namespace: 0) == [
                0x1053_e917_0ff9_f735, 0xb889_84c6_b71c_4274, 0xf93b_7c90_b876_9e80,
            ])
        #expect(PageHasher(seed: 0, pageSize: 1).chain([5], namespace: 0xDEAD_BEEF) == [0xa93a_2c70_5b59_94bf])
    }

    @Test func chainCanContinueFromAParentHash() {
        let hasher = PageHasher(seed: 9, pageSize: 2)
        let tokens: [Int32] = [1, 2, 3, 4, 5, 6]
        let full = hasher.chain(tokens[...], namespace: 3)
        let tail = hasher.chain(tokens[2...], namespace: 3, parent: full[0])
        #expect(Array(full[1...]) == tail)
        #expect(hasher.firstPageHash(tokens[0..<2], namespace: 3) == full[0])
        #expect(hasher.pageHash(tokens[2..<4], parent: full[0]) == full[1])
    }

    @Test func namespaceAndSeedChangeEveryHash() {
        let tokens: [Int32] = [1, 2, 3, 4]
        let base = PageHasher(seed: 1, pageSize: 2).chain(tokens[...], namespace: 0)
        let otherNamespace = PageHasher(seed: 1, pageSize: 2).chain(tokens[...], namespace: 1)
        let otherSeed = PageHasher(seed: 2, pageSize: 2).chain(tokens[...], namespace: 0)
        for index in base.indices {
            #expect(base[index] != otherNamespace[index])
            #expect(base[index] != otherSeed[index])
        }
    }
}
