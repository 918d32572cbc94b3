import Engine
import Tokenizers

extension GenerateCommand {
    /// `generate --tp N` with `--prompt`/`--chat`: the engine loop drives rank 0 of a
    /// tensor-parallel group (see ``TensorParallelRanks``) like the single-process path, and shuts
    /// the group down when it stops.
    func runTensorParallel() throws {
        let ranks = try tensorParallel.startRanks(modelOptions: modelOptions, engine: engine, handlesSignals: true)
        defer { ranks.finish() }
        let tokenizer = try AutoTokenizer.load(directory: modelOptions.directory)
        let leader = try tensorParallel.joinAsLeader(
            ranks, modelOptions: modelOptions, engine: engine, maxStepTokens: max(engine.maxBatchedTokens, 16))
        let probe = TensorParallelStatistics(leader)
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
        if tensorParallel.tpStats { StandardOutput.writeError(probe.report(size: tensorParallel.size)) }
    }
}
