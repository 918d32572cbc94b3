// RadixServe: decode steps and retraction under page pressure.

import KVPaging
import ServingTypes

extension Scheduler {
    /// Builds a decode batch: one token per running request.
    ///
    /// A request whose next position starts a new page gets one; when the pool is empty,
    /// unlocked cache is evicted first, then running requests are retracted, most recently
    /// admitted first (it has the least sunk work under FCFS, and older requests keep
    /// their latency, as vLLM's recompute preemption does). A retracted request caches its
    /// computed KV, returns to the front of the waiting queue with its output so far, and
    /// later re-prefills prompt + outputs, mostly from that cache.
    func scheduleDecode() -> ScheduledBatch? {
        var index = 0
        while index < running.count {
            let id = running[index]
            assert(!requests[id]!.isPrefilling, "decode with a prefill in progress")
            // No copy of the request is kept across the append: it would make the page table's
            // storage shared and the append copy it.
            if requests[id]!.pageTable.count * config.pageSize <= requests[id]!.computedTokenCount {
                guard let page = allocateDecodePage(for: id) else { break }  // `id` retracted itself.
                requests[id]!.pageTable.append(page)
            }
            index += 1
        }
        guard !running.isEmpty else { return nil }
        // The previous batch's buffer: the caller dropped that batch, so refilling it allocates nothing.
        var entries = Self.reuse(&entryBuffer)
        for id in running {
            let position = requests[id]!.computedTokenCount
            requests[id]!.computedTokenCount += 1
            let request = requests[id]!
            entries.append(
                BatchEntry(
                    requestID: id,
                    tokenIDs: StepTokens(request.tokenIDs[position]),
                    startPosition: position,
                    pageTable: request.pageTable,
                    isPrefill: false,
                    shouldSample: true
                ))
        }
        entryBuffer = entries
        return ScheduledBatch(entries: entries, isPrefill: false)
    }

    /// One page for `id`'s next decode position, evicting and retracting as needed.
    /// Returns `nil` when `id` itself had to be retracted.
    private func allocateDecodePage(for id: RequestID) -> Int32? {
        while true {
            if let page = cache.pool.allocateOne() { return page }
            if cache.evict(pageCount: 1) > 0 { continue }
            guard let victim = running.last else { preconditionFailure("Invalid state: no request to retract") }
            retract(victim)
            if victim == id { return nil }
        }
    }

    /// Moves a running request back to the front of the waiting queue, caching its
    /// computed KV and releasing everything it holds.
    func retract(_ id: RequestID) {
        releaseResources(of: id, keepingComputedKV: true)
        running.removeAll { $0 == id }
        requests[id]!.state = .waiting
        requests[id]!.retractionCount += 1
        retractionTotal += 1
        waiting.insert(id, at: 0)
    }

    /// Releases a running request's pages and lock.
    ///
    /// With `keepingComputedKV`, the whole pages of computed KV are inserted into the prefix
    /// cache first (duplicates of pages the cache already has are freed by the cache); the
    /// remaining private pages, including a partial last page, are freed.
    func releaseResources(of id: RequestID, keepingComputedKV: Bool) {
        var request = requests[id]!
        var firstPrivatePage = request.sharedPageCount
        if keepingComputedKV {
            let wholePages = request.computedTokenCount / config.pageSize
            if wholePages > 0 {
                _ = cache.insert(
                    request.tokenIDs[..<(wholePages * config.pageSize)],
                    pages: request.pageTable[..<wholePages],
                    namespace: request.params.namespace
                )
                firstPrivatePage = max(firstPrivatePage, wholePages)
            }
        }
        cache.pool.free(request.pageTable[firstPrivatePage...])
        if let handle = request.prefixHandle { cache.unlock(handle) }
        request.pageTable = []
        request.sharedPageCount = 0
        request.prefixHandle = nil
        request.computedTokenCount = 0
        request.isPrefilling = false
        requests[id] = request
    }
}
