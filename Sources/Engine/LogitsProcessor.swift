// RadixServe: penalties and log-probabilities over one row of logits.

#if canImport(Glibc)
import Glibc
import ServingTypes
#endif

/// In-place logit transforms applied before sampling, and log-softmax reporting.
///
/// Semantics follow Hugging Face (`RepetitionPenaltyLogitsProcessor`) and OpenAI/vLLM
/// (`apply_penalties`): repetition penalty first, then frequency and presence penalties.
/// Free of allocation except ``logprobs(_:chosen:topCount:)``'s result.
public enum LogitsProcessor {
    /// For each distinct token of `seen` (prompt and output tokens): a positive logit is
    /// divided by `penalty`, a negative one multiplied by it. `penalty == 1` is a no-op.
    /// Precondition: every token is a valid index of `logits`.
    public static func applyRepetitionPenalty(
        _ logits: UnsafeMutableBufferPointer<Float>, penalty: Float, seen: some Collection<Int32>
    ) {
        guard penalty != 1 else { return }
        for token in seen {
            let value = logits[Int(token)]
            logits[Int(token)] = value > 0 ? value / penalty : value * penalty
        }
    }

    /// For each output token with `count > 0` occurrences:
    /// `logit -= count · frequency + presence`.
    /// Precondition: every token is a valid index of `logits`.
    public static func applyFrequencyAndPresencePenalties(
        _ logits: UnsafeMutableBufferPointer<Float>, frequency: Float, presence: Float, counts: [Int32: Int]
    ) {
        guard frequency != 0 || presence != 0 else { return }
        for (token, count) in counts where count > 0 {
            logits[Int(token)] -= Float(count) * frequency + presence
        }
    }

    /// Log-softmax of `logits` at `chosen`, with the `topCount` largest entries (most likely
    /// first, lower id first on ties; masked entries, at -infinity, are never listed). The
    /// normaliser is accumulated in `Double`.
    /// Precondition: `logits` is non-empty and `chosen` indexes it.
    public static func logprobs(_ logits: UnsafeBufferPointer<Float>, chosen: Int32, topCount: Int) -> TokenLogprobs {
        precondition(!logits.isEmpty && Int(chosen) < logits.count)
        var maximum = -Float.infinity
        for value in logits where value > maximum { maximum = value }
        var total: Double = 0
        for value in logits { total += Double(expf(value - maximum)) }
        let logNormaliser = maximum + Float(log(total))

        // Keep the best `topCount` in a small array sorted descending: O(V · topCount) worst case,
        // O(V) typically since most values fail the first comparison.
        var best: [TokenLogprob] = []
        let count = min(max(0, topCount), logits.count)
        best.reserveCapacity(count + 1)
        if count > 0 {
            for (index, value) in logits.enumerated() where value > -.infinity {
                if best.count == count, value <= best[count - 1].logprob { continue }
                var position = best.count
                while position > 0, best[position - 1].logprob < value { position -= 1 }
                best.insert(TokenLogprob(tokenID: Int32(index), logprob: value), at: position)
                if best.count > count { best.removeLast() }
            }
        }
        for index in best.indices { best[index].logprob -= logNormaliser }
        return TokenLogprobs(logprob: logits[Int(chosen)] - logNormaliser, top: best)
    }
}
