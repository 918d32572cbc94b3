import Accelerators
import ArgumentParser
import Backends
import Engine
import Foundation
import Tokenizers

extension GenerateCommand {
    /// `generate --tp N`: rank 0 of a tensor-parallel group. Spawns ranks 1..<N on this host
    /// (ipc:// rendezvous in a fresh temp directory) unless `--tp-endpoint` names an endpoint for
    /// ranks started by hand, generates like the single-process path, then shuts the group down.
    func runTensorParallel() throws {
        guard promptsFile == nil else {
            throw ValidationError("--prompts-file runs the batched engine, which does not support --tp yet")
        }
        let tp = tensorParallel
        let threads = tp.threadsPerRank(requested: modelOptions.threads)
        var rendezvous = tp.tpEndpoint ?? ""
        var children: RankProcessGroup?
        var socketDirectory: URL?
        if tp.tpEndpoint == nil && tp.size > 1 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rxs-tp-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            socketDirectory = directory
            rendezvous = "ipc://\(directory.path)/rendezvous"
            let parent = getpid()
            children = try RankProcessGroup(size: tp.size) { rank in
                ["rank", "--rank", "\(rank)", "--tp", "\(tp.size)", "--leader", rendezvous, "--model", modelOptions.model,
                 "--backend", modelOptions.backend, "--threads", "\(threads)", "--timeout", "\(tp.tpTimeout)",
                 "--parent-pid", "\(parent)"] + (tp.tpReplicatedLMHead ? ["--replicated-lm-head"] : [])
            }
            for (index, pid) in children!.pids.enumerated() {
                FileHandle.standardError.write(Data("radixserve: started tensor-parallel rank \(index + 1) as pid \(pid)\n".utf8))
            }
        } else if rendezvous.isEmpty {
            rendezvous = "ipc://\(FileManager.default.temporaryDirectory.path)/rxs-tp-\(UUID().uuidString.prefix(8))"
        }
        defer {
            children?.finish(grace: .seconds(5))
            if let socketDirectory { try? FileManager.default.removeItem(at: socketDirectory) }
        }
        let backend = try BackendRegistry.device(named: modelOptions.backend).makeBackend(threads: threads)
        let leader: TensorParallelLeader
        do {
            leader = TensorParallelLeader(try TensorParallelBootstrap.join(
                tp.configuration(rank: 0, rendezvous: rendezvous), directory: modelOptions.directory, backend: backend))
        } catch let error as TensorParallelError {
            throw CommandFailure(message: "rank 0: \(error.message)")
        }
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
        if tp.tpStats { printStatistics(leader, decode: decode) }
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
