// RadixServe: scheduling entry point, chunked prefill and admission.

import KVPaging
import ServingTypes

extension Scheduler {
    /// Plans the next step, or returns `nil` when there is nothing to run.
    ///
    /// Prefill first: chunks of admitted-but-unfinished prefills, then new admissions, up
    /// to ``SchedulerConfig/maxBatchedTokens`` tokens. Only when no prefill can run does it
    /// return a decode batch of every running request. Computed-token counts advance at
    /// once, assuming the compute side writes the planned KV.
    /// - Precondition: the previous batch was passed to ``postprocess(sampled:)``.
    public func schedule() -> ScheduledBatch? {
        precondition(!isBatchInFlight, "schedule() called before postprocess(sampled:) of the previous batch")
        releaseEntryBuffer()
        let batch = schedulePrefill() ?? scheduleDecode()
        if let batch {
            // Refilled in place: their capacity carries over from step to step.
            pendingSamples.removeAll(keepingCapacity: true)
            inFlight.removeAll(keepingCapacity: true)
            for entry in batch.entries {
                inFlight.insert(entry.requestID)
                if entry.shouldSample { pendingSamples.insert(entry.requestID) }
            }
            isPrefillInFlight = batch.isPrefill
            isBatchInFlight = true
        }
        return batch
    }

    /// Builds a prefill batch, or returns `nil` when nothing can be prefilled.
    func schedulePrefill() -> ScheduledBatch? {
        var budget = config.maxBatchedTokens
        var entries: [BatchEntry] = []
        // 1. Continue chunked prefills, oldest admission first.
        for id in running where budget > 0 && requests[id]!.isPrefilling {
            entries.append(nextChunk(of: id, budget: &budget))
        }
        // 2. Admit waiting requests while the budget, the running limit and the pool allow. A
        //    request that a prefill in progress will serve from the cache waits for it.
        orderWaitingQueue()
        var index = 0
        while budget > 0, running.count < config.maxRunningRequests, index < waiting.count {
            let id = waiting[index]
            if waitsForSharedPrefill(requests[id]!, alongside: entries) {
                index += 1
                continue
            }
            guard admit(id) else { break }  // Head-of-line: never overtake a request that does not fit.
            waiting.remove(at: index)
            running.append(id)
            entries.append(nextChunk(of: id, budget: &budget))
        }
        return entries.isEmpty ? nil : ScheduledBatch(entries: entries, isPrefill: true)
    }

    /// Fewest more prompt tokens a prefill in progress must be about to cache for a waiting request
    /// to wait for it instead of computing them again (see ``waitsForSharedPrefill(_:alongside:)``).
    static let sharedPrefillMinTokens = 32

    /// Whether `request` should stay queued until a prefill in progress ends: a running request of
    /// the same namespace whose prompt is not yet cached (prefilling, or in this step's `entries`)
    /// shares at least ``sharedPrefillMinTokens`` more leading tokens, in whole pages, with
    /// `request`'s prompt than the cache holds now. Its pages enter the cache when that prefill
    /// ends, so the request is then admitted with them as a hit: `n` samples of one prompt, or
    /// clients sending the same long system prompt at once, compute the shared prefix once.
    func waitsForSharedPrefill(_ request: Request, alongside entries: [BatchEntry]) -> Bool {
        let namespace = request.params.namespace
        let limit = cache.matchLimit(request.tokenIDs.count)
        guard limit >= Self.sharedPrefillMinTokens else { return false }
        let cached = cache.peekCachedTokenCount(request.tokenIDs[...], namespace: namespace)
        guard limit - cached >= Self.sharedPrefillMinTokens else { return false }
        for id in running {
            let other = requests[id]!
            guard other.params.namespace == namespace,
                other.isPrefilling || entries.contains(where: { $0.requestID == id && $0.isPrefill })
            else { continue }
            let common = commonPrefixLength(request.tokenIDs, other.tokenIDs, limit: limit)
            if common / config.pageSize * config.pageSize - cached >= Self.sharedPrefillMinTokens { return true }
        }
        return false
    }

    /// The next prefill chunk of a running request, charged to `budget`.
    func nextChunk(of id: RequestID, budget: inout Int) -> BatchEntry {
        var request = requests[id]!
        let start = request.computedTokenCount
        let count = min(request.tokenIDs.count - start, budget)
        assert(count > 0, "prefill chunk with no tokens")
        budget -= count
        request.computedTokenCount += count
        let reachesEnd = request.computedTokenCount == request.tokenIDs.count
        request.isPrefilling = !reachesEnd
        let entry = BatchEntry(
            requestID: id,
            tokenIDs: StepTokens(request.tokenIDs[start..<start + count]),
            startPosition: start,
            pageTable: Array(request.pageTable.prefix(pagesFor(start + count))),
            isPrefill: true,
            shouldSample: reachesEnd
        )
        requests[id] = request
        return entry
    }

    /// Tries to admit `id`: match its known tokens against the prefix cache, lock the match,
    /// then allocate pages for the rest (evicting unlocked cache if short) while keeping one
    /// page of decode headroom per running decoder. On failure nothing changes but recency.
    func admit(_ id: RequestID) -> Bool {
        var request = requests[id]!
        let match = cache.match(request.tokenIDs[...], namespace: request.params.namespace)
        cache.lock(match.handle)
        let needed = pagesFor(request.tokenIDs.count) - match.pages.count
        let headroom = running.reduce(0) { $0 + (requests[$1]!.isPrefilling ? 0 : 1) }
        let shortfall = needed + headroom - cache.pool.freePageCount
        if shortfall > 0 { cache.evict(pageCount: shortfall) }
        guard cache.pool.freePageCount >= needed + headroom, let pages = cache.pool.allocate(needed) else {
            cache.unlock(match.handle)
            return false
        }
        if request.retractionCount == 0 { request.cachedTokenCount = match.cachedTokenCount }
        request.state = .running
        request.pageTable = match.pages + pages
        request.sharedPageCount = match.pages.count
        request.prefixHandle = match.handle
        request.computedTokenCount = match.cachedTokenCount
        request.isPrefilling = true
        admissionCounter += 1
        request.admissionIndex = admissionCounter
        requests[id] = request
        return true
    }

    /// Under ``SchedulingPolicy/longestPrefixMatch``, sorts the waiting queue by cached
    /// prefix length (longest first); requests on the same cached prefix stay together, in the
    /// order their prefix first arrived, so they are admitted into the same batches, where decode
    /// attention reads their shared pages once for all of them; then arrival order. Retracted
    /// requests keep no priority of their own under this policy beyond their (usually long)
    /// cached prefix.
    func orderWaitingQueue() {
        guard config.policy == .longestPrefixMatch, waiting.count > 1,
            waiting.count <= config.prefixOrderingLimit
        else { return }
        var firstArrival: [PrefixKey: UInt64] = [:]
        let keyed = waiting.map { id -> (id: RequestID, cached: Int, prefix: PrefixKey, arrival: UInt64) in
            let request = requests[id]!
            let cached = cache.peekCachedTokenCount(request.tokenIDs[...], namespace: request.params.namespace)
            let prefix = PrefixKey(namespace: request.params.namespace, tokens: request.tokenIDs[..<cached])
            firstArrival[prefix] = min(firstArrival[prefix] ?? .max, request.arrivalIndex)
            return (id, cached, prefix, request.arrivalIndex)
        }
        waiting = keyed.sorted {
            if $0.cached != $1.cached { return $0.cached > $1.cached }
            let (first0, first1) = (firstArrival[$0.prefix]!, firstArrival[$1.prefix]!)
            return first0 != first1 ? first0 < first1 : $0.arrival < $1.arrival
        }.map(\.id)
    }
}

/// Length of the common prefix of `a` and `b`, at most `limit`.
private func commonPrefixLength(_ a: [Int32], _ b: [Int32], limit: Int) -> Int {
    let end = min(limit, a.count, b.count)
    var index = 0
    while index < end && a[index] == b[index] { index += 1 }
    return index
}

/// A cached prefix as ``Scheduler/orderWaitingQueue()`` groups requests by: equal keys mean the
/// same cached pages.
private struct PrefixKey: Hashable {
    var namespace: UInt64
    var tokens: ArraySlice<Int32>
}
