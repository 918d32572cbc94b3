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
        let ranks = tensorParallel.isEnabled
            ? try TensorParallelRanks(options: tensorParallel, modelOptions: modelOptions, handlesSignals: true) : nil
        defer { ranks?.finish() }
        let model: any ForwardModel
        if let ranks {
            model = try ranks.joinAsLeader(modelOptions: modelOptions, maxStepTokens: maxStepTokens)
        } else {
            model = try modelOptions.loadModel(maxStepTokens: maxStepTokens)
        }
        var config = engine.engineConfig(pageSize: modelOptions.pageSize, seed: sampling.seed)
        config.extraEOSTokenIDs = Set(tokenizer.eosTokenIDs.map(Int32.init))
        let collector = EventCollector()
        let loop = try EngineLoop(model: model, config: config, sink: collector.receive)
        let prompts = lines.map { tokenizer.encode($0.prompt, addSpecialTokens: true).map(Int32.init) }
        for (index, line) in lines.enumerated() {
            try loop.submit(EngineRequest(id: RequestID(UInt64(index)), promptTokenIDs: prompts[index], params: line.params))
        }
        collector.waitForFinishes(lines.count)
        loop.shutdown()
        var failures = 0
        for index in lines.indices {
            let output = collector.output(RequestID(UInt64(index)))
            let text = tokenizer.decode(output.tokenIDs.map(Int.init), skipSpecialTokens: false)
            let reason = output.reason ?? .error(message: "no result")
            if reason.errorMessage != nil { failures += 1 }
            if json {
                let record = GenerationRecord(
                    promptTokenIDs: prompts[index], tokenIDs: output.tokenIDs, text: text,
                    finishReason: reason.openAIName, cachedTokens: output.usage?.cachedTokenCount ?? 0,
                    error: reason.errorMessage)
                StandardOutput.write(try record.jsonLine())
            } else if let message = reason.errorMessage {
                StandardOutput.write("[\(index)] error: \(message)\n")
            } else {
                StandardOutput.write("[\(index)] \(text)\n")
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
