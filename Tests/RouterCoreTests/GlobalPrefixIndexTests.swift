import PageHashing
import RouterCore
import ServingTypes
import Testing

/// A brute-force model of the workers' caches: each worker's set of page hashes.
struct CacheModel {
    let hasher = PageHasher(seed: 99, pageSize: 2)
    var held: [WorkerID: Set<UInt64>] = [:]
    var parentOf: [UInt64: UInt64] = [:]
    var pagesOf: [UInt64: [Int32]] = [:]

    /// A chain of `count` pages over a tiny alphabet, so workers often share prefixes.
    func randomChain(from parent: UInt64?, count: Int, using generator: inout SeededRandom) -> [UInt64] {
        var hashes: [UInt64] = []
        var previous = parent
        for _ in 0..<count {
            let page: [Int32] = [Int32.random(in: 0..<3, using: &generator), 7]
            let hash = previous.map { hasher.pageHash(page[...], parent: $0) } ?? hasher.firstPageHash(page[...], namespace: 1)
            hashes.append(hash)
            previous = hash
        }
        return hashes
    }

    mutating func record(_ hashes: [UInt64], parent: UInt64?) {
        var previous = parent
        for hash in hashes {
            if let previous { parentOf[hash] = previous }
            previous = hash
        }
    }

    func leaves(of worker: WorkerID) -> [UInt64] {
        let set = held[worker] ?? []
        let parents = Set(set.compactMap { parentOf[$0] })
        return set.filter { !parents.contains($0) }.sorted()
    }

    func expectedMatch(_ hashes: [UInt64]) -> [WorkerID: Int] {
        var result: [WorkerID: Int] = [:]
        for (worker, set) in held {
            let count = hashes.prefix { set.contains($0) }.count
            if count > 0 { result[worker] = count }
        }
        return result
    }
}

@Suite struct GlobalPrefixIndexTests {
    static let workers = (0..<4).map { WorkerID(UInt32($0)) }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomEventStreamsMatchBruteForceModel(seed: UInt64) {
        var generator = SeededRandom(seed: seed)
        var model = CacheModel()
        var index = GlobalPrefixIndex()
        var sequences: [WorkerID: UInt64] = [:]
        for worker in Self.workers {
            #expect(index.addWorker(worker, incarnation: 1, lastSequence: 0) == .applied)
            model.held[worker] = []
            sequences[worker] = 0
        }
        for step in 0..<1_500 {
            let worker = Self.workers.randomElement(using: &generator)!
            var events: [CacheEvent] = []
            let roll = Int.random(in: 0..<100, using: &generator)
            if roll < 55 {
                let start: UInt64? = Bool.random(using: &generator) ? model.held[worker]!.randomElement(using: &generator) : nil
                let chain = model.randomChain(from: start, count: Int.random(in: 1...4, using: &generator), using: &generator)
                model.record(chain, parent: start)
                let known = chain.prefix { model.held[worker]!.contains($0) }.count
                if known < chain.count {
                    let parent = known > 0 ? chain[known - 1] : start
                    events.append(.stored(namespace: 0, parentHash: parent, pageHashes: Array(chain[known...])))
                    model.held[worker]!.formUnion(chain[known...])
                }
            } else if roll < 97 {
                var removed: [UInt64] = []
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    guard let leaf = model.leaves(of: worker).randomElement(using: &generator) else { break }
                    model.held[worker]!.remove(leaf)
                    removed.append(leaf)
                }
                if !removed.isEmpty { events.append(.removed(pageHashes: removed)) }
            } else {
                events.append(.cleared)
                model.held[worker] = []
            }
            guard !events.isEmpty else { continue }
            sequences[worker]! += 1
            let action = index.apply(WorkerEventBatch(worker: worker, incarnation: 1, sequence: sequences[worker]!, events: events))
            #expect(action == .applied, "step \(step)")
            #expect(index.integrityProblems().isEmpty, "step \(step): \(index.integrityProblems().prefix(3))")
            #expect(index.pages(of: worker) == model.held[worker]!, "step \(step)")
            let query = model.randomChain(from: nil, count: Int.random(in: 1...10, using: &generator), using: &generator)
            let expected = model.expectedMatch(query)
            #expect(index.match(pageHashes: query) == expected, "step \(step)")
            #expect(index.linearMatch(pageHashes: query) == expected, "step \(step)")
        }
    }

    @Test func sequenceGapRequestsSnapshotAndSnapshotResumes() {
        var index = GlobalPrefixIndex()
        let worker = WorkerID(1)
        _ = index.addWorker(worker, incarnation: 5, lastSequence: 0)
        #expect(index.apply(WorkerEventBatch(worker: worker, incarnation: 5, sequence: 1, events: [.stored(namespace: 0, parentHash: nil, pageHashes: [10, 11])])) == .applied)
        #expect(index.apply(WorkerEventBatch(worker: worker, incarnation: 5, sequence: 1, events: [])) == .ignoredDuplicate)
        #expect(index.apply(WorkerEventBatch(worker: worker, incarnation: 5, sequence: 3, events: [.removed(pageHashes: [11])]))
            == .requestSnapshot(worker, .sequenceGap(expected: 2, received: 3)))
        #expect(index.isAwaitingSnapshot(worker))
        #expect(index.apply(WorkerEventBatch(worker: worker, incarnation: 5, sequence: 4, events: [.cleared])) == .ignoredAwaitingSnapshot)
        let snapshot = WorkerSnapshot(worker: worker, incarnation: 5, sequence: 4, chains: [.init(namespace: 0, parentHash: nil, pageHashes: [20, 21]), .init(namespace: 0, parentHash: 20, pageHashes: [22])])
        #expect(index.applySnapshot(snapshot) == .applied)
        #expect(index.pages(of: worker) == [20, 21, 22])
        #expect(index.match(pageHashes: [10, 11]).isEmpty)
        #expect(index.match(pageHashes: [20, 22, 99]) == [worker: 2])
        #expect(index.apply(WorkerEventBatch(worker: worker, incarnation: 5, sequence: 5, events: [.removed(pageHashes: [21])])) == .applied)
        #expect(index.integrityProblems().isEmpty)
    }

    @Test func heartbeatAheadOfLastSequenceIsAGap() {
        var index = GlobalPrefixIndex()
        let worker = WorkerID(1)
        _ = index.addWorker(worker, incarnation: 1, lastSequence: 3)
        #expect(index.apply(WorkerEventBatch(worker: worker, incarnation: 1, sequence: 4, events: []))
            == .requestSnapshot(worker, .missedBatches(lastReceived: 3, reported: 4)))
    }

    @Test func resyncReasonsReadWithoutContradiction() {
        #expect("\(ResyncReason.missedBatches(lastReceived: 0, reported: 1))"
            == "it reports cache-event batch 1 sent, but the last batch received was 0")
        #expect("\(ResyncReason.sequenceGap(expected: 2, received: 5))" == "cache-event batch 5 arrived when 2 was next")
        #expect("\(ResyncReason.unknownParent(255))" == "a stored chain continues page 0xff, which the worker does not hold")
    }

    @Test func unknownParentAndUnknownPageRequestSnapshot() {
        var index = GlobalPrefixIndex()
        let (a, b) = (WorkerID(1), WorkerID(2))
        _ = index.addWorker(a, incarnation: 1, lastSequence: 0)
        _ = index.addWorker(b, incarnation: 1, lastSequence: 0)
        _ = index.apply(WorkerEventBatch(worker: a, incarnation: 1, sequence: 1, events: [.stored(namespace: 0, parentHash: nil, pageHashes: [1, 2])]))
        // Parent 2 exists globally but not on worker b: still unknown for b.
        #expect(index.apply(WorkerEventBatch(worker: b, incarnation: 1, sequence: 1, events: [.stored(namespace: 0, parentHash: 2, pageHashes: [3])]))
            == .requestSnapshot(b, .unknownParent(2)))
        #expect(index.apply(WorkerEventBatch(worker: a, incarnation: 1, sequence: 2, events: [.removed(pageHashes: [42])]))
            == .requestSnapshot(a, .unknownPage(42)))
        #expect(index.integrityProblems().isEmpty)
    }

    @Test func newIncarnationPurgesAndRequestsSnapshot() {
        var index = GlobalPrefixIndex()
        let worker = WorkerID(3)
        #expect(index.addWorker(worker, incarnation: 1) == .requestSnapshot(worker, .unknownState))
        _ = index.applySnapshot(WorkerSnapshot(worker: worker, incarnation: 1, sequence: 9, chains: [.init(namespace: 0, parentHash: nil, pageHashes: [1, 2, 3])]))
        #expect(index.match(pageHashes: [1, 2, 3]) == [worker: 3])
        #expect(index.apply(WorkerEventBatch(worker: worker, incarnation: 2, sequence: 1, events: [.stored(namespace: 0, parentHash: nil, pageHashes: [7])]))
            == .requestSnapshot(worker, .newIncarnation(previous: 1, current: 2)))
        #expect(index.match(pageHashes: [1, 2, 3]).isEmpty)
        #expect(index.pageCount == 0)
        #expect(index.integrityProblems().isEmpty)
    }

    @Test func pendingEntriesServeSiblingsUntilStoredOrExpiry() {
        var index = GlobalPrefixIndex()
        let (a, b) = (WorkerID(1), WorkerID(2))
        _ = index.addWorker(a, incarnation: 1, lastSequence: 0)
        _ = index.addWorker(b, incarnation: 1, lastSequence: 0)
        let prompt: [UInt64] = [100, 101, 102, 103]
        let lease = index.addPending(worker: a, pageHashes: prompt, expiry: .seconds(2))
        #expect(lease != nil)
        // A sibling sharing three pages finds worker a before any event arrives.
        #expect(index.match(pageHashes: [100, 101, 102, 999], now: .seconds(1)) == [a: 3])
        // Stored for the whole chain ends the lease; the confirmed entry takes over.
        _ = index.apply(WorkerEventBatch(worker: a, incarnation: 1, sequence: 1, events: [.stored(namespace: 0, parentHash: nil, pageHashes: prompt)]))
        #expect(index.pendingLeaseCount == 0)
        _ = index.apply(WorkerEventBatch(worker: a, incarnation: 1, sequence: 2, events: [.removed(pageHashes: [103, 102])]))
        #expect(index.match(pageHashes: prompt) == [a: 2])
        // A lease that is never confirmed expires.
        _ = index.addPending(worker: b, pageHashes: [200, 201], expiry: .seconds(5))
        #expect(index.match(pageHashes: [200, 201], now: .seconds(4.9)) == [b: 2])
        #expect(index.match(pageHashes: [200, 201], now: .seconds(5)).isEmpty)
        #expect(index.integrityProblems().isEmpty)
    }

    @Test func siblingLeasesJoinAndPurgeDropsThem() {
        var index = GlobalPrefixIndex()
        let worker = WorkerID(1)
        _ = index.addWorker(worker, incarnation: 1, lastSequence: 0)
        let first = index.addPending(worker: worker, pageHashes: [1, 2, 3], expiry: .seconds(2))!
        let second = index.addPending(worker: worker, pageHashes: [1, 2], expiry: .seconds(3))!
        #expect(first == second)
        #expect(index.pendingLeaseCount == 1)
        index.endPending(first)
        #expect(index.match(pageHashes: [1, 2, 3]) == [worker: 3])
        _ = index.addPending(worker: worker, pageHashes: [1, 5], expiry: .seconds(3))
        #expect(index.match(pageHashes: [1, 5]) == [worker: 2])
        index.removeWorker(worker)
        #expect(index.pendingLeaseCount == 0)
        #expect(index.match(pageHashes: [1, 2, 3]).isEmpty)
        #expect(index.integrityProblems().isEmpty)
    }

    @Test func bulkHashingMatchesPageHasher() {
        var generator = SeededRandom(seed: 11)
        for pageSize in [1, 2, 16, 64] {
            let hasher = PageHasher(seed: 0xABCD, pageSize: pageSize)
            let tokens = (0..<(pageSize * 9 + 3)).map { _ in Int32.random(in: -5..<200_000, using: &generator) }
            #expect(hasher.pageHashes(tokens[2...], namespace: 77) == hasher.chain(tokens[2...], namespace: 77))
            #expect(hasher.pageHashes(tokens[..<(pageSize - 1)], namespace: 0).isEmpty || pageSize == 1)
        }
    }
}
