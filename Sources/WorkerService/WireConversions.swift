// RadixServe: conversions between engine values and router ⇄ worker wire values.

import Engine
import KVPaging
import Scheduling
import WireProtocol

extension SamplingParams {
    /// The engine's parameters for a submission. Values are taken as sent; the engine
    /// validates them on admission and finishes invalid requests with an error.
    package init(_ wire: WireSamplingParams) {
        self.init(
            maxTokens: Int(wire.maxTokens), temperature: wire.temperature, topK: Int(wire.topK), topP: wire.topP,
            minP: wire.minP, seed: wire.seed, frequencyPenalty: wire.frequencyPenalty,
            presencePenalty: wire.presencePenalty, repetitionPenalty: wire.repetitionPenalty,
            stopTokenIDs: Set(wire.stopTokenIDs), ignoreEOS: wire.ignoreEOS, logprobs: wire.logprobs.map { Int($0) },
            namespace: wire.namespace)
    }
}

extension WireTokenLogprobs {
    package init(_ logprobs: TokenLogprobs) {
        self.init(
            logprob: logprobs.logprob, top: logprobs.top.map { WireTopLogprob(tokenID: $0.tokenID, logprob: $0.logprob) })
    }
}

extension WireFinishReason {
    package init(_ reason: FinishReason) {
        switch reason {
        case .stop(let tokenID): self = .stop(tokenID: tokenID)
        case .length: self = .length
        case .abort: self = .abort
        case .error(let message): self = .error(message: message)
        }
    }
}

extension RequestFinish {
    package init(requestID: RequestID, reason: FinishReason, usage: EngineUsage) {
        self.init(
            requestID: requestID.rawValue, reason: WireFinishReason(reason),
            promptTokens: UInt32(clamping: usage.promptTokenCount),
            completionTokens: UInt32(clamping: usage.completionTokenCount),
            cachedTokens: UInt32(clamping: usage.cachedTokenCount))
    }
}

extension WireKVEvent {
    /// The router's view of a cache change: page hashes only (the router hashes its own tokens).
    package init(_ event: KVEvent) {
        switch event {
        case .stored(let namespace, let pageHashes, let parentHash, _):
            self = .stored(namespace: namespace, parentHash: parentHash, pageHashes: pageHashes)
        case .removed(let pageHashes):
            self = .removed(pageHashes: pageHashes)
        case .cleared:
            self = .cleared
        }
    }
}

extension CachedChain {
    /// The wire form of one listed chain of the engine's prefix cache.
    package init(_ chain: CachedPageChain) {
        self.init(namespace: chain.namespace, parentHash: chain.parentHash, pageHashes: chain.pageHashes)
    }
}

extension WorkerHeartbeat {
    package init(incarnation: UInt64, sequence: UInt64, load: EngineLoad) {
        self.init(
            incarnation: incarnation, sequence: sequence, runningCount: UInt32(clamping: load.runningCount),
            waitingCount: UInt32(clamping: load.waitingCount), waitingPrefillTokens: 0,
            freePages: UInt32(clamping: load.freePageCount), evictablePages: UInt32(clamping: load.evictablePageCount),
            cachedPages: UInt32(clamping: load.cachedPageCount), totalPages: UInt32(clamping: load.totalPageCount),
            prefillTokensPerSecond: load.recentPrefillTokensPerSecond.isFinite ? load.recentPrefillTokensPerSecond : 0,
            decodeTokensPerSecond: load.recentDecodeTokensPerSecond.isFinite ? load.recentDecodeTokensPerSecond : 0)
    }
}
