// RadixServe: checking that a worker's cache events name the pages of the prompts it was sent.

/// How far the router trusts a worker's cache events.
package enum CacheEventTrust: String, Sendable, Hashable {
    /// Nothing it reported has matched a prompt chain yet.
    case unverified
    /// A page hash it reported equalled one of the router's chains: it hashes as the router does.
    case verified
    /// It reported stored pages for prompts it served and none matched: its hashes are wrong
    /// (another chain, seed or namespace handling), so the router routes it as cache-unaware.
    case untrusted
}

/// Audits one worker incarnation's cache events (docs/WIRE_PROTOCOL.md, "What the router checks").
///
/// A worker whose page-hash chain differs from the router's registers, serves and looks healthy,
/// but none of its `stored` hashes ever matches a prompt the router looks up. The audit notices:
/// the router records the chain of every prompt it dispatches to the worker; one reported hash
/// equal to a recorded one (or page 0 of a dispatched prompt already held, per the worker's own
/// events) verifies the worker for good; completed prompts with whole pages and stored pages with
/// no match make it untrusted. The verdict waits for a `stored` batch after the completions,
/// since a worker reports a finished request's pages in the batch after its `finished`.
package struct CacheEventAudit: Sendable {
    /// Completed requests with at least one whole prompt page needed before a verdict.
    package static let completedPromptsForVerdict = 4
    /// Stored pages with no match needed before a verdict.
    package static let storedPagesForVerdict = 8
    /// Most page hashes remembered while unverified (older prompts are forgotten past this).
    package static let maxExpectedHashes = 1 << 14

    package private(set) var trust = CacheEventTrust.unverified
    package private(set) var completedPrompts = 0
    package private(set) var unmatchedStoredPages = 0
    private var expected: Set<UInt64> = []

    package init() {}

    /// A prompt with these whole-page hashes was dispatched; `pageZeroHeld`: the worker already
    /// holds its page 0 according to its own events. Returns the new trust when it changed.
    package mutating func dispatched(pageHashes: [UInt64], pageZeroHeld: Bool) -> CacheEventTrust? {
        guard trust == .unverified, !pageHashes.isEmpty else { return nil }
        if pageZeroHeld { return settle(.verified) }
        if expected.count + pageHashes.count > Self.maxExpectedHashes { expected.removeAll(keepingCapacity: true) }
        expected.formUnion(pageHashes)
        return nil
    }

    /// A request with whole prompt pages completed on the worker.
    package mutating func completed() {
        if trust == .unverified { completedPrompts += 1 }
    }

    /// The worker reported these pages as stored. Returns the new trust when it changed.
    package mutating func stored(_ pageHashes: [UInt64]) -> CacheEventTrust? {
        guard trust == .unverified else { return nil }
        if pageHashes.contains(where: expected.contains) { return settle(.verified) }
        unmatchedStoredPages += pageHashes.count
        if completedPrompts >= Self.completedPromptsForVerdict && unmatchedStoredPages >= Self.storedPagesForVerdict {
            return settle(.untrusted)
        }
        return nil
    }

    private mutating func settle(_ verdict: CacheEventTrust) -> CacheEventTrust {
        trust = verdict
        expected = []
        return verdict
    }
}
