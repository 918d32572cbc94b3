import Certification
import Engine
import Foundation
import KVPaging
import PageHashing
import Scheduling
import ServingTypes
import Synchronization
import Testing
import TestSupport

/// KV cache events and snapshots published by the engine loop, as a worker forwards them.
@Suite struct EngineCacheEventsTests {
    /// What the engine handed over, in the order it did: event lists and snapshot listings.
    enum Published: Sendable {
        case events([CacheEvent])
        case snapshot([CachedChain]?)
    }

    /// An ordered log fed by both the cache-event sink and snapshot completions.
    final class PublishedLog: Sendable {
        let entries = Mutex<[Published]>([])

        func append(_ entry: Published) { entries.withLock { $0.append(entry) } }

        var all: [Published] { entries.withLock { $0 } }

        /// Every event published so far, oldest first.
        var events: [CacheEvent] {
            all.flatMap { entry -> [CacheEvent] in
                if case .events(let events) = entry { return events }
                return []
            }
        }

        /// Asks for a snapshot and waits until it is in the log; returns the log at that point.
        func snapshot(of engine: EngineLoop) -> [Published] {
            let done = DispatchSemaphore(value: 0)
            engine.snapshotCache { [self] chains in
                append(.snapshot(chains))
                done.signal()
            }
            done.wait()
            return all
        }
    }

    /// Hash → parent hash of every page, from events replayed in order from an empty cache.
    static func replay(_ events: [CacheEvent]) -> [UInt64: UInt64?] {
        var pages: [UInt64: UInt64?] = [:]
        for event in events {
            switch event {
            case .stored(_, let parent, let hashes):
                var above = parent
                for hash in hashes {
                    pages[hash] = above
                    above = hash
                }
            case .removed(let hashes):
                for hash in hashes { pages[hash] = nil }
            case .cleared:
                pages = [:]
            }
        }
        return pages
    }

    /// Hash → parent hash of every page of a snapshot listing.
    static func pages(of chains: [CachedChain]) -> [UInt64: UInt64?] {
        var pages: [UInt64: UInt64?] = [:]
        for chain in chains {
            var above = chain.parentHash
            for hash in chain.pageHashes {
                pages[hash] = above
                above = hash
            }
        }
        return pages
    }

    static func engine(publishing: Bool, log: PublishedLog, collector: EventCollector, hashSeed: UInt64 = 11) throws
        -> EngineLoop
    {
        let config = EngineConfig(
            pageSize: 4, kvMemory: .pages(64), maxBatchedTokens: 64, isCheckingIntegrity: true,
            isPublishingKVEvents: publishing, hashSeed: hashSeed)
        return try EngineLoop(
            model: try EngineHarness.model("llama-gqa"), config: config, sink: collector.receive,
            cacheEventSink: { log.append(.events($0)) })
    }

    @Test func storedEventsHashTheComputedPagesWithTheConfiguredSeed() throws {
        let reference = try ModelReference.load("llama-gqa").prompts[2]
        let log = PublishedLog()
        let collector = EventCollector()
        let engine = try Self.engine(publishing: true, log: log, collector: collector)
        defer { engine.shutdown() }
        var params = EngineHarness.greedy
        params.maxTokens = 1
        let prompt = reference.promptTokenIDs
        _ = try EngineHarness.run([EngineRequest(id: 1, promptTokenIDs: prompt, params: params)], on: engine, collector: collector)
        // One token and nothing fed back: exactly the prompt's whole pages are cached.
        _ = log.snapshot(of: engine)
        let stored = log.events.flatMap { event -> [UInt64] in
            if case .stored(let namespace, _, let hashes) = event {
                #expect(namespace == 0)
                return hashes
            }
            return []
        }
        #expect(stored == PageHasher(seed: 11, pageSize: 4).chain(prompt[...], namespace: 0))
        #expect(stored.count == prompt.count / 4)
    }

    @Test func snapshotFollowsEveryEventItIncludes() throws {
        let prompts = try ModelReference.load("llama-gqa").prompts
        let log = PublishedLog()
        let collector = EventCollector()
        // 64 pages of 4 tokens: the later requests evict earlier prefixes, so `removed` events occur.
        let engine = try Self.engine(publishing: true, log: log, collector: collector)
        defer { engine.shutdown() }
        var id: UInt64 = 0
        for round in 0..<3 {
            let requests = prompts.map { prompt in
                id += 1
                return EngineRequest(id: RequestID(id), promptTokenIDs: prompt.promptTokenIDs, params: EngineHarness.greedy)
            }
            let outputs = try EngineHarness.run(requests, on: engine, collector: collector)
            for (output, prompt) in zip(outputs, prompts) { #expect(output.tokenIDs == prompt.greedyTokenIDs, "round \(round)") }
            let entries = log.snapshot(of: engine)
            guard case .snapshot(let chains?) = entries.last else {
                Issue.record("the snapshot is not the last entry")
                return
            }
            let events = log.events
            #expect(!chains.isEmpty)
            #expect(Self.pages(of: chains) == Self.replay(events))
            // Parents before children.
            var listed: Set<UInt64> = []
            for chain in chains {
                if let parent = chain.parentHash { #expect(listed.contains(parent)) }
                listed.formUnion(chain.pageHashes)
            }
        }
        #expect(log.events.contains { if case .removed = $0 { true } else { false } })
    }

    @Test func flushPublishesClearedAndEmptiesTheSnapshot() throws {
        let prompt = try ModelReference.load("llama-gqa").prompts[1].promptTokenIDs
        let log = PublishedLog()
        let collector = EventCollector()
        let engine = try Self.engine(publishing: true, log: log, collector: collector)
        defer { engine.shutdown() }
        _ = try EngineHarness.run([EngineRequest(id: 1, promptTokenIDs: prompt, params: EngineHarness.greedy)], on: engine, collector: collector)
        #expect(engine.flushCacheAndWait())
        let entries = log.snapshot(of: engine)
        guard case .snapshot(let chains?) = entries.last else {
            Issue.record("the snapshot is not the last entry")
            return
        }
        #expect(chains.isEmpty)
        #expect(log.events.last == .cleared)
    }

    @Test func nothingIsPublishedWhenPublishingIsOff() throws {
        let prompt = try ModelReference.load("llama-gqa").prompts[1].promptTokenIDs
        let log = PublishedLog()
        let collector = EventCollector()
        let engine = try Self.engine(publishing: false, log: log, collector: collector)
        _ = try EngineHarness.run([EngineRequest(id: 1, promptTokenIDs: prompt, params: EngineHarness.greedy)], on: engine, collector: collector)
        let entries = log.snapshot(of: engine)
        #expect(entries.count == 1)
        guard case .snapshot(let chains?) = entries.last else {
            Issue.record("expected only the snapshot, got \(entries)")
            return
        }
        #expect(!chains.isEmpty, "the cache still works and can be listed")
        engine.shutdown()
        let after = log.snapshot(of: engine)
        guard case .snapshot(nil) = after.last else {
            Issue.record("a stopped engine answers a snapshot request with nil")
            return
        }
    }
}
