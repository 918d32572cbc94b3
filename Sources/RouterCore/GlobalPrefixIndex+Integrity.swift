// RadixServe: structural checks of the global prefix index, for tests and debug builds.

extension GlobalPrefixIndex {
    /// Describes every broken invariant (empty when consistent). O(entries + worker pages).
    ///
    /// Invariants: each entry has a non-empty worker set whose slots belong to registered
    /// workers holding the page; each worker's page has an entry with its slot set; each
    /// worker's set is prefix-closed (a page's parent is held too) with depth = parent depth + 1;
    /// slot ownership is a bijection; pending leases sit on owned slots, filed under their root.
    package func integrityProblems() -> [String] {
        var problems: [String] = []
        var slotsSeen = Set<Int>()
        for (worker, state) in workers {
            if slotOwners.indices.contains(state.slot) == false || slotOwners[state.slot] != worker {
                problems.append("\(worker) slot \(state.slot) not owned")
            }
            if !slotsSeen.insert(state.slot).inserted { problems.append("slot \(state.slot) shared") }
            for hash in state.pages {
                guard let entry = entries[hash] else {
                    problems.append("\(worker) page \(hash) has no entry")
                    continue
                }
                if !entry.workers.contains(state.slot) { problems.append("\(worker) page \(hash) missing slot bit") }
                if entry.depth > 1 {
                    if !state.pages.contains(entry.parent) { problems.append("\(worker) page \(hash) without its parent") }
                    if let parent = entries[entry.parent], parent.depth + 1 != entry.depth {
                        problems.append("page \(hash) depth \(entry.depth) after parent depth \(parent.depth)")
                    }
                }
            }
        }
        for (hash, entry) in entries {
            if entry.workers.isEmpty { problems.append("entry \(hash) with no workers") }
            entry.workers.forEach { slot in
                guard slotOwners.indices.contains(slot), let owner = slotOwners[slot], let state = workers[owner] else {
                    return problems.append("entry \(hash) names free slot \(slot)")
                }
                if !state.pages.contains(hash) { problems.append("entry \(hash) names \(owner) which lacks it") }
            }
        }
        for (slot, owner) in slotOwners.enumerated() {
            if let owner, workers[owner]?.slot != slot { problems.append("slot \(slot) owner \(owner) mismatch") }
        }
        for lease in pending.leases.values where !(slotOwners.indices.contains(lease.slot) && slotOwners[lease.slot] != nil) {
            problems.append("pending lease on free slot \(lease.slot)")
        }
        return problems + pending.integrityProblems()
    }
}
