// RadixServe: short-lived "just dispatched" entries of the global prefix index.

import HeapModule


/// A handle to a pending entry recorded at dispatch; pass it back to end it early.
package struct PendingLease: Hashable, Sendable {
    /// Unique within one index.
    package let id: UInt64
}

/// Prompt chains credited to workers between dispatch and the workers' `stored` events.
///
/// Each lease keeps its whole chain (page hashes from the root). Leases are indexed by their
/// root hash, and because chain hashes are cumulative (equal at page i ⇒ equal at every page
/// before i), the pages a query shares with a lease are found by binary search. Adding or
/// ending a lease is O(1) + O(log leases) instead of one map update per page.
struct PendingTable: Sendable {
    struct Lease: Sendable {
        var slot: Int
        var hashes: [UInt64]
        var expiry: RouterInstant
        /// Requests sharing this lease (a sibling whose chain it covers joins instead of adding one).
        var holderCount = 1
    }

    struct Expiry: Comparable, Sendable {
        var instant: RouterInstant
        var lease: UInt64
        static func < (lhs: Self, rhs: Self) -> Bool { (lhs.instant, lhs.lease) < (rhs.instant, rhs.lease) }
    }

    private(set) var leases: [UInt64: Lease] = [:]
    private(set) var byRoot: [UInt64: [UInt64]] = [:]
    private var expiries = Heap<Expiry>()
    private var nextLease: UInt64 = 1

    /// Records a lease. A chain already covered by a live lease of the same slot joins that lease
    /// (extending its expiry) so sibling bursts do not multiply work for matching.
    /// Precondition: `hashes` is non-empty and starts at a chain root.
    mutating func add(slot: Int, hashes: [UInt64], expiry: RouterInstant) -> PendingLease {
        let last = hashes.count - 1
        for id in byRoot[hashes[0]] ?? [] {
            guard var lease = leases[id], lease.slot == slot, lease.hashes.count > last, lease.hashes[last] == hashes[last]
            else { continue }
            lease.holderCount += 1
            if expiry > lease.expiry {
                lease.expiry = expiry
                expiries.insert(Expiry(instant: expiry, lease: id))
            }
            leases[id] = lease
            return PendingLease(id: id)
        }
        let id = nextLease
        nextLease += 1
        leases[id] = Lease(slot: slot, hashes: hashes, expiry: expiry)
        byRoot[hashes[0], default: []].append(id)
        expiries.insert(Expiry(instant: expiry, lease: id))
        return PendingLease(id: id)
    }

    /// One holder is done with the lease; the last one ends it. Unknown ids are ignored.
    mutating func release(_ id: UInt64) {
        guard var lease = leases[id] else { return }
        lease.holderCount -= 1
        if lease.holderCount > 0 { leases[id] = lease } else { end(id) }
    }

    /// Ends a lease for all holders; unknown or already ended leases are ignored.
    mutating func end(_ id: UInt64) {
        guard let lease = leases.removeValue(forKey: id) else { return }
        let root = lease.hashes[0]
        byRoot[root]?.removeAll { $0 == id }
        if byRoot[root]?.isEmpty == true { byRoot[root] = nil }
    }

    /// Ends every lease whose expiry is at or before `now`. O(expired · log leases).
    mutating func expire(now: RouterInstant) {
        while let first = expiries.min, first.instant <= now {
            _ = expiries.popMin()
            // A joined lease leaves older heap entries behind; only its latest expiry counts.
            if let lease = leases[first.lease], lease.expiry <= now { end(first.lease) }
        }
    }

    /// Ends the leases of `slot` whose whole chain the worker now holds (`isHeld` of the last
    /// page; the worker's set is prefix-closed). O(live leases).
    mutating func confirm(slot: Int, isHeld: (UInt64) -> Bool) {
        for (id, lease) in leases where lease.slot == slot && isHeld(lease.hashes[lease.hashes.count - 1]) { end(id) }
    }

    /// Drops every lease of `slot`. O(live leases).
    mutating func purge(slot: Int) {
        for (id, lease) in leases where lease.slot == slot { end(id) }
    }

    /// Calls `report(slot, pages)` for each lease sharing at least the first page of `hashes`
    /// and not expired at `now`, with the number of leading pages shared.
    /// O(leases with that root · log pages).
    func forEachMatch(_ hashes: [UInt64], now: RouterInstant?, _ report: (Int, Int) -> Void) {
        guard let first = hashes.first, let ids = byRoot[first] else { return }
        for id in ids {
            guard let lease = leases[id], now.map({ lease.expiry > $0 }) ?? true else { continue }
            // Largest k with lease.hashes[k-1] == hashes[k-1]; k = 1 holds (same root).
            var low = 1
            var high = min(lease.hashes.count, hashes.count)
            while low < high {
                let middle = (low + high + 1) / 2
                if lease.hashes[middle - 1] == hashes[middle - 1] { low = middle } else { high = middle - 1 }
            }
            report(lease.slot, low)
        }
    }

    /// Describes broken invariants: every lease is indexed under its root exactly once and vice versa.
    func integrityProblems() -> [String] {
        var problems: [String] = []
        var indexed = 0
        for (root, ids) in byRoot {
            if ids.isEmpty { problems.append("empty pending root list \(root)") }
            for id in ids {
                indexed += 1
                if leases[id]?.hashes.first != root { problems.append("pending lease \(id) misfiled under \(root)") }
            }
        }
        if indexed != leases.count { problems.append("pending index holds \(indexed) ids for \(leases.count) leases") }
        return problems
    }
}
