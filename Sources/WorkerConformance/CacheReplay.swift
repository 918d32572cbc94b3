// RadixServe: the kit's replay of a worker's cache events, checked against the tokens it sent.

import PageHashing
import ServingTypes
import WireProtocol

/// The set of pages a worker holds, rebuilt from its `kvEvents` batches, with every event checked:
/// batches numbered 1, 2, … in the registered incarnation; a `stored` page is the chain hash of a
/// token sequence the kit sent (a prompt and the tokens the worker returned for it) in the event's
/// namespace, in chain order, its parent held; a `removed` page is held.
///
/// A stored page whose sequence the kit has not seen yet (the worker stored it before sending the
/// tokens) is checked again in ``finish()``. Not thread-safe.
struct CacheReplay {
    /// Where a page sits: its namespace and the page before it (`nil` for the first page).
    struct Page: Hashable {
        var namespace: UInt64
        var parent: UInt64?
    }

    /// One stored run of pages, as the worker sent it.
    struct StoredRun: Hashable {
        var namespace: UInt64
        var parent: UInt64?
        var hashes: [UInt64]
    }

    let hasher: PageHasher
    let incarnation: UInt64
    /// The sequence of the last batch applied (0 before the first).
    private(set) var lastSequence: UInt64 = 0
    private(set) var batchCount = 0
    /// Stored pages whose hashes matched a sequence the kit sent.
    private(set) var verifiedPageCount = 0
    /// Every stored run, in arrival order (a check finds the pages one request stored here).
    private(set) var storedRuns: [StoredRun] = []
    /// The pages held now.
    private(set) var held: [UInt64: Page] = [:]
    /// What went wrong, in order.
    private(set) var problems: [String] = []
    /// Chain hashes of every sequence the kit sent or received, with their place.
    private var known: [UInt64: Page] = [:]
    /// Per sequence: how many tokens are hashed and the last page's hash.
    private var learnt: [UInt64: (count: Int, last: UInt64?)] = [:]
    private var unverified: [StoredRun] = []

    init(hasher: PageHasher, incarnation: UInt64) {
        self.hasher = hasher
        self.incarnation = incarnation
    }

    /// Learns the chain hashes of sequence `id` (a prompt and its outputs so far) in `namespace`.
    /// Sequences only grow, so only the new whole pages are hashed.
    mutating func learn(id: UInt64, tokens: [Int32], namespace: UInt64) {
        let (count, last) = learnt[id] ?? (0, nil)
        let pageSize = hasher.pageSize
        guard tokens.count >= count + pageSize else { return }
        let hashes = hasher.chain(tokens[count..<(tokens.count / pageSize * pageSize)], namespace: namespace, parent: last)
        var parent = last
        for hash in hashes {
            known[hash] = Page(namespace: namespace, parent: parent)
            parent = hash
        }
        learnt[id] = (count + hashes.count * pageSize, parent)
    }

    /// The chain hashes of `tokens` in `namespace` (whole pages only).
    func chain(_ tokens: [Int32], namespace: UInt64) -> [UInt64] { hasher.chain(tokens[...], namespace: namespace) }

    /// Whether every page of `hashes` is held.
    func holds(_ hashes: [UInt64]) -> Bool { hashes.allSatisfy { held[$0] != nil } }

    /// Applies one batch, recording what is wrong with it.
    mutating func apply(_ batch: KVEventBatch) {
        batchCount += 1
        if batch.incarnation != incarnation {
            problems.append("batch \(batch.sequence) has incarnation \(batch.incarnation.hex), registered \(incarnation.hex)")
        }
        if batch.sequence != lastSequence + 1 {
            problems.append("batch sequence \(batch.sequence) follows \(lastSequence) (expected \(lastSequence + 1))")
        }
        lastSequence = batch.sequence
        for event in batch.events {
            switch event {
            case .stored(let namespace, let parent, let hashes):
                store(StoredRun(namespace: namespace, parent: parent, hashes: hashes), batch: batch.sequence)
            case .removed(let hashes):
                for hash in hashes where held.removeValue(forKey: hash) == nil {
                    problems.append("batch \(batch.sequence) removes page \(hash.hex), which is not held")
                }
            case .cleared:
                held.removeAll()
            }
        }
    }

    private mutating func store(_ run: StoredRun, batch: UInt64) {
        storedRuns.append(run)
        if let parent = run.parent, held[parent] == nil {
            problems.append("batch \(batch) stores pages under \(parent.hex), which is not held")
        }
        var parent = run.parent
        for hash in run.hashes {
            held[hash] = Page(namespace: run.namespace, parent: parent)
            parent = hash
        }
        if run.hashes.allSatisfy({ known[$0] != nil }) { verify(run) } else { unverified.append(run) }
    }

    /// Checks a stored run against the known chains; every page must be known by now.
    private mutating func verify(_ run: StoredRun) {
        var parent = run.parent
        for hash in run.hashes {
            guard let page = known[hash] else {
                problems.append(
                    "stored page \(hash.hex) (namespace \(run.namespace)) is not the chain hash of any token sequence "
                        + "the kit sent in that namespace (page hashes: PageHasher, seed \(hasher.seed), page size \(hasher.pageSize))")
                return
            }
            if page.namespace != run.namespace {
                problems.append("stored page \(hash.hex) is labelled namespace \(run.namespace) but hashes a sequence of namespace \(page.namespace)")
                return
            }
            if page.parent != parent {
                let expected = page.parent.map { "page \($0.hex)" } ?? "no parent (it is a first page)"
                let got = parent.map { "page \($0.hex)" } ?? "no parent"
                problems.append("stored page \(hash.hex) follows \(got), but its chain has it after \(expected)")
                return
            }
            verifiedPageCount += 1
            parent = hash
        }
    }

    /// Checks the stored pages the kit could not match when they arrived; call once every
    /// sequence is learnt.
    mutating func finish() {
        let pending = unverified
        unverified.removeAll()
        for run in pending { verify(run) }
    }

    /// How `snapshot` differs from the replayed set (`nil` when it equals it), also checking that
    /// its chains list parents before children.
    func difference(from snapshot: [CachedChain]) -> String? {
        var listed: [UInt64: Page] = [:]
        for chain in snapshot {
            if let parent = chain.parentHash, listed[parent] == nil {
                return "chain under \(parent.hex) comes before its parent"
            }
            var parent = chain.parentHash
            for hash in chain.pageHashes {
                listed[hash] = Page(namespace: chain.namespace, parent: parent)
                parent = hash
            }
        }
        guard listed != held else { return nil }
        let missing = held.keys.filter { listed[$0] == nil }
        let extra = listed.keys.filter { held[$0] == nil }
        let moved = listed.keys.filter { held[$0] != nil && held[$0] != listed[$0] }
        var parts = ["the snapshot lists \(listed.count) pages, the replayed events hold \(held.count)"]
        if !missing.isEmpty { parts.append("missing \(missing.prefix(3).map(\.hex).joined(separator: ", "))") }
        if !extra.isEmpty { parts.append("not held \(extra.prefix(3).map(\.hex).joined(separator: ", "))") }
        if !moved.isEmpty { parts.append("other parent or namespace \(moved.prefix(3).map(\.hex).joined(separator: ", "))") }
        return parts.joined(separator: "; ")
    }
}
