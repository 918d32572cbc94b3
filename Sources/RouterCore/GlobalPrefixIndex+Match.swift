// RadixServe: prefix matching against the global index, and pending entries.

import PageHashing


extension GlobalPrefixIndex {
    /// Workers holding a prefix of `pageHashes` (confirmed or pending), with the number of
    /// leading pages each holds; workers with no match are absent.
    ///
    /// Gallops: the candidate set is taken from page 0, then pages 1, 2, 4, 8, … are probed; when
    /// a probe loses candidates, a binary search finds the exact drop point for them. Valid
    /// because each worker's set is prefix-closed, so O(drops · log pages) hash lookups instead
    /// of one per page. Pending entries count unless expired at `now` (nil: all count).
    /// Pure query; expired leases are dropped by ``expirePending(now:)``.
    package func match(pageHashes: [UInt64], now: RouterInstant? = nil) -> [WorkerID: Int] {
        var result: [WorkerID: Int] = [:]
        let record = { (slot: Int, pages: Int) in
            if let worker = slotOwners[slot], pages > result[worker] ?? 0 { result[worker] = pages }
        }
        matchSlots(pageHashes, record)
        // Both a worker's cached set and its leased chains start at the root, so the union's
        // matched prefix is the longer of the two.
        pending.forEachMatch(pageHashes, now: now, record)
        return result
    }

    /// Hashes `tokens` (whole pages only) with `hasher` and matches them; see ``match(pageHashes:now:)``.
    package func match(
        tokens: ArraySlice<Int32>, namespace: UInt64, hasher: PageHasher, now: RouterInstant? = nil
    ) -> [WorkerID: Int] {
        match(pageHashes: hasher.pageHashes(tokens, namespace: namespace), now: now)
    }

    @inline(__always)
    func holders(_ hash: UInt64) -> WorkerSet { entries[hash]?.workers ?? WorkerSet() }

    /// Calls `report(slot, matchedPages)` once per slot whose confirmed pages include page 0.
    func matchSlots(_ hashes: [UInt64], _ report: (Int, Int) -> Void) {
        guard let first = hashes.first else { return }
        var candidates = holders(first)
        var known = 0  // every candidate holds pages 0...known
        var step = 1
        while !candidates.isEmpty {
            guard known + 1 < hashes.count else {
                candidates.forEach { report($0, hashes.count) }
                return
            }
            let probe = min(known + step, hashes.count - 1)
            let kept = holders(hashes[probe]).intersection(candidates)
            if kept == candidates {
                known = probe
                step &<<= 1
                continue
            }
            // Some candidates drop in (known, probe]: find the first index where the set shrinks.
            var low = known + 1
            var high = probe
            var atHigh = kept
            while low < high {
                let middle = (low + high) / 2
                let atMiddle = holders(hashes[middle]).intersection(candidates)
                if atMiddle == candidates {
                    low = middle + 1
                } else {
                    high = middle
                    atHigh = atMiddle
                }
            }
            let survivors = high == probe ? atHigh : holders(hashes[high]).intersection(candidates)
            candidates.subtracting(survivors).forEach { report($0, high) }
            candidates = survivors
            known = high
            step = 1
        }
    }

    /// The sum of matched pages over workers, without building a dictionary (for benchmarks).
    package func matchCount(pageHashes: [UInt64]) -> Int {
        var total = 0
        matchSlots(pageHashes) { total += $1 }
        pending.forEachMatch(pageHashes, now: nil) { total += $1 }
        return total
    }

    /// Reference implementation of the confirmed part of ``match(pageHashes:now:)``: one lookup
    /// per page, no reliance on prefix closure. O(pages).
    package func linearMatch(pageHashes: [UInt64]) -> [WorkerID: Int] {
        var result: [WorkerID: Int] = [:]
        guard let first = pageHashes.first else { return result }
        var candidates = holders(first)
        var depth = 1
        while !candidates.isEmpty && depth < pageHashes.count {
            let kept = holders(pageHashes[depth]).intersection(candidates)
            candidates.subtracting(kept).forEach { if let worker = slotOwners[$0] { result[worker] = depth } }
            candidates = kept
            depth += 1
        }
        candidates.forEach { if let worker = slotOwners[$0] { result[worker] = depth } }
        return result
    }

    // MARK: - Pending entries

    /// Credits `worker` with `pageHashes` until `expiry`, its `stored` event for a page, or
    /// ``endPending(_:)``, so sibling requests dispatched before the event still find it.
    /// Returns nil for unknown workers. O(pages).
    package mutating func addPending(worker: WorkerID, pageHashes: [UInt64], expiry: RouterInstant) -> PendingLease? {
        guard let state = workers[worker], !pageHashes.isEmpty else { return nil }
        return pending.add(slot: state.slot, hashes: pageHashes, expiry: expiry)
    }

    /// Gives up one hold on a lease early (request failed or was cancelled); the lease ends when
    /// its last holder gives up, its pages are stored, or it expires. Extra calls may end a lease
    /// a sibling still holds, which only costs that sibling its pending credit.
    package mutating func endPending(_ lease: PendingLease) { pending.release(lease.id) }

    /// Ends leases that expired at or before `now`.
    package mutating func expirePending(now: RouterInstant) { pending.expire(now: now) }

    /// The number of live pending leases.
    package var pendingLeaseCount: Int { pending.leases.count }
}
