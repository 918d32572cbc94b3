import PageHashing
import ServingTypes
import Testing
import WireProtocol

@testable import WorkerConformance

/// The kit's replay of cache events, without sockets: what it accepts and what it names.
@Suite struct CacheReplayTests {
    let hasher = PageHasher(seed: 0, pageSize: 2)
    let tokens: [Int32] = [5, 6, 7, 8, 9]

    func replay() -> CacheReplay {
        var replay = CacheReplay(hasher: hasher, incarnation: 1)
        replay.learn(id: 1, tokens: tokens, namespace: 3)
        return replay
    }

    func batch(_ sequence: UInt64, _ events: CacheEvent...) -> KVEventBatch {
        KVEventBatch(incarnation: 1, sequence: sequence, events: events)
    }

    @Test func chainHashesInOrderAreVerifiedAndHeld() {
        var replay = replay()
        let hashes = hasher.chain(tokens[...], namespace: 3)
        replay.apply(batch(1, .stored(namespace: 3, parentHash: nil, pageHashes: [hashes[0]])))
        replay.apply(batch(2, .stored(namespace: 3, parentHash: hashes[0], pageHashes: [hashes[1]])))
        replay.finish()
        #expect(replay.problems.isEmpty)
        #expect(replay.verifiedPageCount == 2 && replay.holds(hashes))
        let snapshot = [CachedChain(namespace: 3, parentHash: nil, pageHashes: hashes)]
        #expect(replay.difference(from: snapshot) == nil)
        replay.apply(batch(3, .removed(pageHashes: [hashes[1]])))
        #expect(replay.difference(from: snapshot)?.hasPrefix("the snapshot lists 2 pages, the replayed events hold 1") == true)
        replay.apply(batch(4, .cleared))
        #expect(replay.held.isEmpty && replay.problems.isEmpty)
    }

    @Test func namesEveryKindOfMistake() {
        var replay = replay()
        let hashes = hasher.chain(tokens[...], namespace: 3)
        replay.apply(KVEventBatch(incarnation: 2, sequence: 2, events: [.removed(pageHashes: [hashes[0]])]))
        replay.apply(batch(3, .stored(namespace: 3, parentHash: hashes[0], pageHashes: [hashes[1]])))
        replay.apply(batch(4, .stored(namespace: 4, parentHash: nil, pageHashes: [hashes[0]])))
        replay.apply(batch(5, .stored(namespace: 3, parentHash: nil, pageHashes: [hashes[1]])))
        replay.apply(batch(6, .stored(namespace: 3, parentHash: nil, pageHashes: [42])))
        replay.finish()
        #expect(replay.problems == [
            "batch 2 has incarnation 0x0000000000000002, registered 0x0000000000000001",
            "batch sequence 2 follows 0 (expected 1)",
            "batch 2 removes page \(hashes[0].hex), which is not held",
            "batch 3 stores pages under \(hashes[0].hex), which is not held",
            "stored page \(hashes[0].hex) is labelled namespace 4 but hashes a sequence of namespace 3",
            "stored page \(hashes[1].hex) follows no parent, but its chain has it after page \(hashes[0].hex)",
            "stored page 0x000000000000002a (namespace 3) is not the chain hash of any token sequence the kit sent in that "
                + "namespace (page hashes: PageHasher, seed 0, page size 2)",
        ])
    }

    @Test func aSnapshotListsParentsBeforeChildren() {
        let hashes = hasher.chain(tokens[...], namespace: 3)
        let snapshot = [
            CachedChain(namespace: 3, parentHash: hashes[0], pageHashes: [hashes[1]]),
            CachedChain(namespace: 3, parentHash: nil, pageHashes: [hashes[0]]),
        ]
        #expect(replay().difference(from: snapshot) == "chain under \(hashes[0].hex) comes before its parent")
    }
}
