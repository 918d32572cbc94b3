import ArgumentParser
import Engine
import Foundation
import Scheduling
import ServingTypes
import Tokenizers

extension GenerateCommand {
    /// Submits every prompt of a JSONL file to the engine loop at once and prints one result
    /// per prompt, in file order (as JSON lines with `--json`, else as text blocks). With `--tp N`
    /// the engine drives the leader of a tensor-parallel group, which it shuts down when done.
    func runBatch(path: String) throws {
        let lines = try PromptLine.load(path: path, defaults: sampling.samplingParams)
        let tokenizer = try AutoTokenizer.load(directory: modelOptions.directory)
        let maxStepTokens = max(engine.maxBatchedTokens, 16)
        let ranks = tensorParallel.isEnabled ? try tensorParallel.startRanks(modelOptions: modelOptions, engine: engine, handlesSignals: true) : nil
        defer { ranks?.finish() }
        let model = try tensorParallel.loadModel(ranks, modelOptions: modelOptions, engine: engine, maxStepTokens: maxStepTokens)
        var config = engine.engineConfig(pageSize: modelOptions.pageSize, seed: sampling.seed)
        config.extraEOSTokenIDs = Set(tokenizer.eosTokenIDs.map(Int32.init))
        let collector = EventCollector()
        let loop = try EngineLoop(model: model, config: config, sink: collector.receive)
        let prompts = lines.map { tokenizer.encode($0.prompt, addSpecialTokens: true).map(Int32.init) }
        let outputs = try collector.run(
            lines.indices.map { EngineRequest(id: RequestID(UInt64($0)), promptTokenIDs: prompts[$0], params: lines[$0].params) },
            on: loop)
        loop.shutdown()
        for (index, output) in outputs.enumerated() {
            let reason = output.reason ?? .error(message: "no result")
            if json {
                StandardOutput.write(try GenerationRecord(prompt: prompts[index], output, tokenizer: tokenizer, isBatch: true).jsonLine())
            } else {
                StandardOutput.write("[\(index)] " + (reason.errorMessage.map { "error: \($0)" } ?? tokenizer.decode(
                    output.tokenIDs.map(Int.init), skipSpecialTokens: false)) + "\n")
            }
        }
        if outputs.contains(where: { $0.reason?.errorMessage != nil }) { throw ExitCode(1) }
    }
}
