// RadixServe: the predicted time-to-first-token model behind `cache-aware` dispatch.

import ServingTypes

/// Coefficients of the `cache-aware` cost model.
///
/// `predictedTTFT = queuedPrefillTokens / speed + (1 + recomputeWeight) · uncachedTokens / speed
///                 + decodeInterferenceWeight · decodeInterferenceSeconds · runningCount
///                 + (memoryPenaltySeconds if the request's pages do not fit)`
package struct CostModel: Hashable, Sendable {
    /// Extra weight of uncached prompt tokens. At 0 the model is this request's time to first
    /// token alone; above 0 a miss also pays for the prefill it adds to the cluster (and the copy
    /// of the prefix it creates), so siblings stay with the worker holding their prefix longer.
    /// Raise it when workers share compute (several on one host), where an idle-looking worker's
    /// prefill is not free.
    package var recomputeWeight: Double = 0
    /// Scales the decode-interference term (trades TTFT against inter-token latency).
    package var decodeInterferenceWeight: Double = 1
    /// Added when `free + evictable − reserved` pages cannot hold the request.
    package var memoryPenaltySeconds: Double = 30
    /// Candidates within this fraction of the best prediction count as tied.
    package var tieTolerance: Double = 0.03
    /// Absolute tie slack in seconds, so near-zero predictions tie too.
    package var tieSlackSeconds: Double = 0.0005

    /// The default model.
    package init() {}

    /// The predicted time to first token (seconds) on `load` for a prompt of `promptTokens`
    /// tokens of which `cachedTokens` are cached there, expecting `outputTokens` tokens, with
    /// `pageSize` tokens per page. Pure; O(1).
    package func predictedTTFT(
        load: WorkerLoad, promptTokens: Int, cachedTokens: Int, outputTokens: Int, pageSize: Int
    ) -> Double {
        let speed = max(load.prefillTokensPerSecond, 1)
        let uncached = max(promptTokens - cachedTokens, 0)
        var seconds = (Double(load.queuedPrefillTokens) + (1 + recomputeWeight) * Double(uncached)) / speed
        seconds += decodeInterferenceWeight * load.report.decodeInterferenceSeconds * Double(load.report.runningCount)
        let pagesNeeded = (uncached + outputTokens + pageSize - 1) / pageSize
        if pagesNeeded > load.availablePages { seconds += memoryPenaltySeconds }
        return seconds
    }
}
