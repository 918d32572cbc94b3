// RadixServe: invariants of Scheduler.

import KVPaging
import RadixTree

extension Scheduler {
    /// Verifies, throwing the first violation:
    /// - the prefix cache and pool invariants (free + cached + in use == total, …);
    /// - every live request is in exactly one queue, in the state that queue implies;
    /// - waiting requests hold no pages, locks or computed KV;
    /// - running requests' page tables cover their computed tokens (all known tokens while
    ///   prefilling), their shared pages are cached and locked, their private pages are
    ///   in use with a single reference and owned by no other request;
    /// - private pages add up to the pool's in-use count.
    ///
    /// O(pages + cached tokens); meant for tests and debug builds.
    public func checkIntegrity() throws(IntegrityViolation) {
        try cache.checkIntegrity()
        let queued = waiting + running
        guard Set(queued).count == queued.count, queued.count == requests.count,
            queued.allSatisfy({ requests[$0] != nil })
        else { throw IntegrityViolation("queues and live requests disagree") }
        for id in waiting {
            let request = requests[id]!
            guard request.state == .waiting, request.pageTable.isEmpty, request.prefixHandle == nil,
                request.computedTokenCount == 0
            else { throw IntegrityViolation("\(id) waits while holding resources") }
        }
        var owners: [Int32: RequestID] = [:]
        for id in running {
            let request = requests[id]!
            guard request.state == .running, let handle = request.prefixHandle else {
                throw IntegrityViolation("\(id) runs without state or handle")
            }
            let covered = request.isPrefilling ? request.tokenIDs.count : request.computedTokenCount
            guard request.pageTable.count >= pagesFor(covered),
                request.computedTokenCount <= request.tokenIDs.count
            else { throw IntegrityViolation("\(id) page table does not cover its tokens") }
            guard handle.isEmpty || cache.lockCount(of: handle) > 0 else {
                throw IntegrityViolation("\(id) holds an unlocked handle")
            }
            for (index, page) in request.pageTable.enumerated() {
                if index < request.sharedPageCount {
                    guard cache.pool.isCached(page) else { throw IntegrityViolation("\(id) shared page \(page) not cached") }
                } else {
                    guard !cache.pool.isCached(page), cache.pool.refCount(of: page) == 1 else {
                        throw IntegrityViolation("\(id) private page \(page) is shared or cached")
                    }
                    if let other = owners.updateValue(id, forKey: page) {
                        throw IntegrityViolation("page \(page) owned by \(other) and \(id)")
                    }
                }
            }
        }
        guard owners.count == cache.pool.inUsePageCount else {
            throw IntegrityViolation("private pages \(owners.count) != in-use pages \(cache.pool.inUsePageCount)")
        }
    }
}
