import Engine
import Foundation
import Tokenizers

extension GenerateCommand {
    /// `generate --tp N` with `--prompt`/`--chat`: the engine loop drives rank 0 of a
    /// tensor-parallel group (see ``TensorParallelRanks``) like the single-process path, and shuts
    /// the group down when it stops.
    func runTensorParallel() throws {
        let ranks = try TensorParallelRanks(options: tensorParallel, modelOptions: modelOptions, handlesSignals: true)
        defer { ranks.finish() }
        let tokenizer = try AutoTokenizer.load(directory: modelOptions.directory)
        let leader = try ranks.joinAsLeader(modelOptions: modelOptions, maxStepTokens: max(engine.maxBatchedTokens, 16))
        let probe = LeaderProbe(leader)
        let queue = EngineEventQueue()
        let isProbing = tensorParallel.tpStats
        // The engine owns the leader from here and shuts the group down when it stops.
        let loop = try EngineLoop(
            model: leader, config: sequentialEngineConfig(tokenizer: tokenizer),
            sink: { event in
                if isProbing { probe.observe(event) }
                queue.receive(event)
            })
        do {
            try generate(promptTokenIDs(tokenizer: tokenizer), on: loop, queue: queue, tokenizer: tokenizer)
        } catch {
            loop.shutdown()
            throw error
        }
        loop.shutdown()
        if tensorParallel.tpStats { printStatistics(probe.leader, decode: probe.decode) }
    }

    private func printStatistics(_ leader: TensorParallelLeader, decode: DecodeStatistics) {
        let times = leader.communicationTimes
        let share = leader.stepSeconds > 0 ? times.total / leader.stepSeconds * 100 : 0
        let text = String(
            format: "tp %d: %d steps, %.2f ms/step, communication %.1f%% (all-reduce %.2f ms/step over %d calls, all-gather %.2f, broadcast %.2f)\n",
            tensorParallel.size, leader.stepCount, leader.stepSeconds / Double(max(leader.stepCount, 1)) * 1000, share,
            times.allReduce / Double(max(leader.stepCount, 1)) * 1000, times.allReduceCount,
            times.allGather / Double(max(leader.stepCount, 1)) * 1000,
            times.broadcast / Double(max(leader.stepCount, 1)) * 1000)
        let decodeText = String(
            format: "tp %d decode: %d tokens, %.1f tok/s, communication %.1f%% of decode step time\n", tensorParallel.size,
            decode.tokens, Double(decode.tokens) / max(decode.seconds, 1e-9),
            decode.communicationSeconds / max(decode.stepSeconds, 1e-9) * 100)
        FileHandle.standardError.write(Data((text + decodeText).utf8))
    }
}

/// Reads the leader's step and communication times at each token, on the engine thread that
/// owns the leader (as the engine's sink), and keeps the decode-phase totals for after the engine
/// stopped.
///
/// `@unchecked Sendable`: ``observe(_:)`` runs only on the engine thread; ``leader`` and
/// ``decode`` are read only after ``EngineLoop/shutdown()`` joined that thread.
final class LeaderProbe: @unchecked Sendable {
    let leader: TensorParallelLeader
    private(set) var decode = DecodeStatistics()
    private var first: (time: ContinuousClock.Instant, step: Double, communication: Double)?

    init(_ leader: TensorParallelLeader) {
        self.leader = leader
    }

    func observe(_ event: EngineEvent) {
        switch event {
        case .token:
            if let first {
                decode.tokens += 1
                decode.seconds = decode.base.seconds + (ContinuousClock.now - first.time).seconds
                decode.stepSeconds = decode.base.step + leader.stepSeconds - first.step
                decode.communicationSeconds =
                    decode.base.communication + leader.communicationTimes.total - first.communication
            } else {
                decode.base = (decode.seconds, decode.stepSeconds, decode.communicationSeconds)
                first = (.now, leader.stepSeconds, leader.communicationTimes.total)
            }
        case .finished:
            first = nil
        }
    }
}

/// Decode-phase totals over all prompts: tokens after each prompt's first, and the time between.
struct DecodeStatistics {
    var tokens = 0
    var seconds = 0.0
    var stepSeconds = 0.0
    var communicationSeconds = 0.0
    /// Totals when the current prompt's first token arrived.
    var base = (seconds: 0.0, step: 0.0, communication: 0.0)
}
