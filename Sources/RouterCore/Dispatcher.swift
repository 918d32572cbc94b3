
import ServingTypes

// RadixServe: applies a dispatch policy to a list of candidates.

/// The outcome of one decision.
package struct DispatchChoice: Hashable, Sendable {
    /// The chosen worker.
    package var worker: WorkerID
    /// Its index in the candidate list.
    package var candidateIndex: Int
    /// The cache-aware prediction for the chosen worker (also filled in for other policies).
    package var predictedTTFTSeconds: Double
}

/// Chooses workers under a ``DispatchPolicy``. Holds the policy's state: the round-robin cursor
/// and a seeded generator (inject the seed to make random choices reproducible).
///
/// Value type; not thread-safe. `choose` is O(candidates) and allocates one small array for
/// tie sets.
package struct Dispatcher: Sendable {
    /// The strategy.
    package var policy: DispatchPolicy
    /// Coefficients for `cache-aware`.
    package var costModel: CostModel
    private var generator: SeededRandom
    private var roundRobinCursor = 0

    /// Creates a dispatcher.
    package init(policy: DispatchPolicy = .cacheAware, costModel: CostModel = CostModel(), seed: UInt64 = 0x5EED) {
        self.policy = policy
        self.costModel = costModel
        self.generator = SeededRandom(seed: seed)
    }

    /// Picks one of `candidates` (any order; round-robin sorts by worker id itself), or nil
    /// when there are none. Candidates must already exclude unroutable or excluded workers.
    package mutating func choose(_ request: DispatchRequest, from candidates: [DispatchCandidate]) -> DispatchChoice? {
        guard !candidates.isEmpty else { return nil }
        let predictions = candidates.map { candidate in
            costModel.predictedTTFT(
                load: candidate.load, promptTokens: request.promptTokens,
                cachedTokens: min(candidate.matchedPages * request.pageSize, request.promptTokens),
                outputTokens: request.outputTokens, pageSize: request.pageSize)
        }
        let index: Int
        switch policy {
        case .cacheAware: index = chooseCacheAware(candidates, predictions)
        case .roundRobin:
            let order = candidates.indices.sorted { candidates[$0].load.worker < candidates[$1].load.worker }
            index = order[roundRobinCursor % order.count]
            roundRobinCursor = (roundRobinCursor + 1) % order.count
        case .random: index = Int.random(in: candidates.indices, using: &generator)
        case .powerOfTwo:
            guard candidates.count > 1 else {
                index = 0
                break
            }
            let first = Int.random(in: candidates.indices, using: &generator)
            var second = Int.random(in: 0..<(candidates.count - 1), using: &generator)
            if second >= first { second += 1 }
            index = candidates[second].load.requestLoad < candidates[first].load.requestLoad ? second : first
        case .leastLoad:
            let best = candidates.map(\.load.requestLoad).min()!
            let tied = candidates.indices.filter { candidates[$0].load.requestLoad == best }
            index = tied[Int.random(in: tied.indices, using: &generator)]
        }
        return DispatchChoice(
            worker: candidates[index].load.worker, candidateIndex: index, predictedTTFTSeconds: predictions[index])
    }

    /// Lowest prediction; near-ties go to fewer in-flight requests, then to a seeded coin.
    private mutating func chooseCacheAware(_ candidates: [DispatchCandidate], _ predictions: [Double]) -> Int {
        let best = predictions.min()!
        // Relative tolerance on the time part only: a memory penalty on every candidate must
        // not widen the tie band to whole seconds.
        let base = best >= costModel.memoryPenaltySeconds ? best - costModel.memoryPenaltySeconds : best
        let limit = best + base * costModel.tieTolerance + costModel.tieSlackSeconds
        var tied = candidates.indices.filter { predictions[$0] <= limit }
        let fewest = tied.map { candidates[$0].load.inFlightCount }.min()!
        tied.removeAll { candidates[$0].load.inFlightCount != fewest }
        return tied.count == 1 ? tied[0] : tied[Int.random(in: tied.indices, using: &generator)]
    }
}
