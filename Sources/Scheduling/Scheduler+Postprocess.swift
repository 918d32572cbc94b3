// RadixServe: applying sampled tokens and finishing requests.

import KVPaging

extension Scheduler {
    /// Applies the tokens sampled for the batch returned by the last ``schedule()``.
    ///
    /// `sampled` holds one token per entry with `shouldSample` (any order). Tokens for
    /// requests aborted since ``schedule()`` are ignored. A request finishes on a stop token
    /// or (unless `ignoreEOS`) an end-of-sequence token, then on `maxTokens`, then on
    /// ``SchedulerConfig/maxModelLength``; its KV is cached and its pages and lock released.
    /// An entry left without a token is finished with an error rather than lost.
    /// - Precondition: a batch is in flight.
    /// - Returns: `.token` events in `sampled` order, each followed by the request's
    ///   `.finished` event if it finished.
    public func postprocess(sampled: [(requestID: RequestID, tokenID: Int32)]) -> [SchedulerEvent] {
        guard var expected = pendingSamples else {
            preconditionFailure("postprocess(sampled:) without a scheduled batch")
        }
        pendingSamples = nil
        inFlight = []
        var events: [SchedulerEvent] = []
        events.reserveCapacity(sampled.count)
        for (id, token) in sampled {
            guard expected.remove(id) != nil, var request = requests[id] else { continue }
            request.tokenIDs.append(token)
            let index = request.tokenIDs.count - request.promptTokenCount - 1
            requests[id] = request
            events.append(.token(requestID: id, tokenID: token, index: index))
            if let reason = finishReason(of: request, lastToken: token) {
                releaseResources(of: id, keepingComputedKV: true)
                running.removeAll { $0 == id }
                events.append(finish(id, reason: reason))
            }
        }
        for id in expected.sorted() where requests[id] != nil {
            releaseResources(of: id, keepingComputedKV: false)
            running.removeAll { $0 == id }
            events.append(finish(id, reason: .error(message: "the engine returned no sampled token")))
        }
        return events
    }

    /// Why `request` should stop after emitting `lastToken`, or `nil` to continue.
    func finishReason(of request: Request, lastToken: Int32) -> FinishReason? {
        if request.params.stopTokenIDs.contains(lastToken) { return .stop(tokenID: lastToken) }
        if !request.params.ignoreEOS && config.eosTokenIDs.contains(lastToken) { return .stop(tokenID: lastToken) }
        if request.tokenIDs.count - request.promptTokenCount >= request.params.maxTokens { return .length }
        if request.tokenIDs.count >= config.maxModelLength { return .length }
        return nil
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
