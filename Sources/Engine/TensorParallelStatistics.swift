// RadixServe: where a tensor-parallel leader's time went (`generate --tp-stats`).

import Foundation

/// Step and communication times of a tensor-parallel leader over a run of requests, with the
/// decode phase apart: tokens after each request's first, and the time between.
///
/// Use ``observe(_:)`` inside the engine's sink, so it reads the leader on the engine thread that
/// owns it, and ``report(size:)`` once the engine has stopped.
///
/// `@unchecked Sendable`: ``observe(_:)`` runs only on the engine thread; ``report(size:)`` reads
/// the totals only after ``EngineLoop/shutdown()`` joined that thread.
public final class TensorParallelStatistics: @unchecked Sendable {
    private let leader: TensorParallelLeader
    private var tokens = 0
    private var seconds = 0.0
    private var stepSeconds = 0.0
    private var communicationSeconds = 0.0
    /// Totals when the current request's first token arrived.
    private var base = (seconds: 0.0, step: 0.0, communication: 0.0)
    private var first: (time: ContinuousClock.Instant, step: Double, communication: Double)?

    /// Observes `leader`, which the engine about to be started will own.
    public init(_ leader: TensorParallelLeader) {
        self.leader = leader
    }

    /// Notes the leader's times at each token (the engine's sink, on the engine thread).
    public func observe(_ event: EngineEvent) {
        switch event {
        case .token:
            if let first {
                tokens += 1
                seconds = base.seconds + (ContinuousClock.now - first.time).seconds
                stepSeconds = base.step + leader.stepSeconds - first.step
                communicationSeconds = base.communication + leader.communicationTimes.total - first.communication
            } else {
                base = (seconds, stepSeconds, communicationSeconds)
                first = (.now, leader.stepSeconds, leader.communicationTimes.total)
            }
        case .finished:
            first = nil
        }
    }

    /// Two lines for a group of `size` ranks: every step, then the decode phase.
    public func report(size: Int) -> String {
        let times = leader.communicationTimes
        let steps = Double(max(leader.stepCount, 1))
        let share = leader.stepSeconds > 0 ? times.total / leader.stepSeconds * 100 : 0
        let text = String(
            format: "tp %d: %d steps, %.2f ms/step, communication %.1f%% (all-reduce %.2f ms/step over %d calls, all-gather %.2f, broadcast %.2f)\n",
            size, leader.stepCount, leader.stepSeconds / steps * 1000, share, times.allReduce / steps * 1000, times.allReduceCount,
            times.allGather / steps * 1000, times.broadcast / steps * 1000)
        let decodeText = String(
            format: "tp %d decode: %d tokens, %.1f tok/s, communication %.1f%% of decode step time\n", size, tokens,
            Double(tokens) / max(seconds, 1e-9), communicationSeconds / max(stepSeconds, 1e-9) * 100)
        return text + decodeText
    }
}
