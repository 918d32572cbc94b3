import Engine
import Foundation
import Tokenizers

extension GenerateCommand {
    /// `generate --tp N` with `--prompt`/`--chat`: rank 0 of a tensor-parallel group (see
    /// ``TensorParallelRanks``) generates like the single-process path, then shuts the group down.
    func runTensorParallel() throws {
        let ranks = try TensorParallelRanks(options: tensorParallel, modelOptions: modelOptions, handlesSignals: true)
        defer { ranks.finish() }
        let leader = try ranks.joinAsLeader(modelOptions: modelOptions, maxStepTokens: 2048)
        var decode = DecodeStatistics()
        do {
            try generate(with: leader, statistics: &decode)
            leader.shutdown(reason: "generation finished")
        } catch let error as TensorParallelError {
            leader.shutdown(reason: "rank 0 failed")
            throw CommandFailure(message: error.message)
        } catch {
            leader.shutdown(reason: "rank 0 failed: \(error)")
            throw error
        }
        if tensorParallel.tpStats { printStatistics(leader, decode: decode) }
    }

    /// The prompt loop of ``run()`` over the group's leader.
    private func generate(with leader: TensorParallelLeader, statistics: inout DecodeStatistics) throws {
        let tokenizer = try AutoTokenizer.load(directory: modelOptions.directory)
        let generator = try Generator(model: leader, pageSize: modelOptions.pageSize)
        generator.eosTokenIDs.formUnion(tokenizer.eosTokenIDs.map(Int32.init))
        for ids in try promptTokenIDs(tokenizer: tokenizer) {
            var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
            var first: (time: ContinuousClock.Instant, step: Double, communication: Double)?
            let result = try generator.generate(prompt: ids, params: sampling.samplingParams) { token in
                if let first {
                    statistics.tokens += 1
                    statistics.seconds = statistics.base.seconds + (ContinuousClock.now - first.time).seconds
                    statistics.stepSeconds = statistics.base.step + leader.stepSeconds - first.step
                    statistics.communicationSeconds =
                        statistics.base.communication + leader.communicationTimes.total - first.communication
                } else {
                    statistics.base = (statistics.seconds, statistics.stepSeconds, statistics.communicationSeconds)
                    first = (.now, leader.stepSeconds, leader.communicationTimes.total)
                }
                stream(token, generator: generator, into: &detokenizer)
                return true
            }
            try finish(result, tokenizer: tokenizer, detokenizer: &detokenizer)
        }
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

/// Decode-phase totals over all prompts: tokens after each prompt's first, and the time between.
struct DecodeStatistics {
    var tokens = 0
    var seconds = 0.0
    var stepSeconds = 0.0
    var communicationSeconds = 0.0
    /// Totals when the current prompt's first token arrived.
    var base = (seconds: 0.0, step: 0.0, communication: 0.0)
}
