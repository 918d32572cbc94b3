// RadixServe: applying sampled tokens and finishing requests.

import KVPaging
import ServingTypes

extension Scheduler {
    /// Applies the tokens sampled for the batch returned by the last ``schedule()``.
    ///
    /// `sampled` holds one token per entry with `shouldSample` (any order). Tokens for
    /// requests aborted since ``schedule()`` are ignored. A request finishes on a stop token
    /// or (unless `ignoreEOS`) an end-of-sequence token, then on `maxTokens`, then on
    /// ``SchedulerConfig/maxModelLength``; its KV is cached and its pages and lock released.
    /// A request that just finished its prefill and keeps running has its whole computed pages
    /// cached at once (locked by it), so requests sharing its prompt hit while it decodes.
    /// An entry left without a token is finished with an error rather than lost. A request in
    /// `endings` finishes after its token with that reason (the engine's own reasons: an output
    /// constraint that completed or failed), before the stop rule is consulted.
    /// - Precondition: a batch is in flight.
    /// - Returns: `.token` events in `sampled` order, each followed by the request's
    ///   `.finished` event if it finished.
    public func postprocess(
        sampled: [(requestID: RequestID, tokenID: Int32)], endings: [RequestID: FinishReason] = [:]
    ) -> [SchedulerEvent] {
        precondition(isBatchInFlight, "postprocess(sampled:) without a scheduled batch")
        isBatchInFlight = false
        inFlight.removeAll(keepingCapacity: true)
        let cachesPrefills = isPrefillInFlight
        isPrefillInFlight = false
        // The previous step's buffer: the caller dropped those events, so this allocates nothing.
        var events = Self.reuse(&eventBuffer)
        for (id, token) in sampled {
            guard pendingSamples.remove(id) != nil, requests[id] != nil else { continue }
            // In place: a copy of the request would copy its whole token array on every step.
            requests[id]!.tokenIDs.append(token)
            let request = requests[id]!
            let index = request.tokenIDs.count - request.promptTokenCount - 1
            events.append(.token(requestID: id, tokenID: token, index: index))
            if let reason = endings[id] ?? finishReason(of: request, lastToken: token) {
                releaseResources(of: id, keepingComputedKV: true)
                running.removeAll { $0 == id }
                events.append(finish(id, reason: reason))
            } else if cachesPrefills {
                cacheComputedPages(of: id)
            }
        }
        if !pendingSamples.isEmpty {
            for id in pendingSamples.sorted() where requests[id] != nil {
                releaseResources(of: id, keepingComputedKV: false)
                running.removeAll { $0 == id }
                events.append(finish(id, reason: .error(message: "the engine returned no sampled token")))
            }
            pendingSamples.removeAll(keepingCapacity: true)
        }
        eventBuffer = events
        return events
    }

    /// Inserts the request's whole computed pages into the prefix cache and moves its lock to
    /// the longer prefix, as RadixAttention does for unfinished requests. Where another request
    /// cached the same positions first, the cache keeps its own pages (identical KV) and frees
    /// ours, so the page table is re-pointed at the cache's pages.
    func cacheComputedPages(of id: RequestID) {
        var request = requests[id]!
        let wholePages = request.computedTokenCount / config.pageSize
        guard wholePages > request.sharedPageCount, request.tokenIDs.count > wholePages * config.pageSize else { return }
        let key = request.tokenIDs[..<(wholePages * config.pageSize)]
        let insertion = cache.insert(key, pages: request.pageTable[..<wholePages], namespace: request.params.namespace)
        cache.lock(insertion.handle)
        if let previous = request.prefixHandle { cache.unlock(previous) }
        request.prefixHandle = insertion.handle
        if !insertion.duplicatePages.isEmpty {
            // One token past the key, so the match may cover every key page.
            let match = cache.match(request.tokenIDs[..<(key.count + 1)], namespace: request.params.namespace)
            assert(match.pages.count == wholePages, "a just-inserted prefix must match in full")
            request.pageTable.replaceSubrange(0..<wholePages, with: match.pages)
        }
        request.sharedPageCount = wholePages
        requests[id] = request
    }

    /// Why `request` should stop after emitting `lastToken`, or `nil` to continue.
    func finishReason(of request: Request, lastToken: Int32) -> FinishReason? {
        config.stopRule.finishReason(
            params: request.params, lastToken: lastToken, outputCount: request.tokenIDs.count - request.promptTokenCount,
            sequenceLength: request.tokenIDs.count)
    }

    /// Forgets a request that holds no resources and returns its `.finished` event.
    func finish(_ id: RequestID, reason: FinishReason) -> SchedulerEvent {
        let request = requests.removeValue(forKey: id)!
        assert(request.pageTable.isEmpty && request.prefixHandle == nil, "finishing a request that holds pages")
        return .finished(
            requestID: id,
            reason: reason,
            promptTokenCount: request.promptTokenCount,
            completionTokenCount: request.tokenIDs.count - request.promptTokenCount,
            cachedTokenCount: request.cachedTokenCount
        )
    }
}
