import ArgumentParser
import Engine
import RouterService
import ServingTypes
import ServingClient
import Tokenizers

/// `radixserve generate`: run prompts through a model in this process and stream the text
/// (``TextGeneration``; with `--tp N` on a tensor-parallel group), or send them to a router with
/// `--url` (``ServedGeneration``).
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from prompts with a local model, or a router's with --url, streaming to stdout.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var engine: EngineOptions
    @OptionGroup var tensorParallel: TensorParallelOptions
    @OptionGroup var server: ServerOptions
    @OptionGroup var served: ServedRequestOptions
    @Option(name: .long, help: "Prompt text; repeat for several prompts.") var prompt: [String] = []
    @Option(name: .long, help: "A user message, rendered with the model's chat template; repeat for several.")
    var chat: [String] = []
    @Option(help: "System message placed before each --chat message.") var system: String?
    @Option(help: "JSONL file of {\"prompt\": ...} lines (optional per-line sampling fields), run as one batch.")
    var promptsFile: String?
    @Flag(help: "Print one JSON object per prompt instead of streaming text.") var json = false

    func validate() throws {
        guard (prompt.isEmpty && chat.isEmpty) != (promptsFile == nil) else {
            throw ValidationError("give --prompt or --chat (both repeatable), or --prompts-file")
        }
        try sampling.samplingParams.validate()
        if server.url != nil { return try validateServed() }
        guard !served.isAnyGiven else { throw ValidationError("--model-name, --stop and --no-stream need --url") }
        try modelOptions.validateModelExists()
    }

    func run() throws {
        if server.url != nil { return try runServed() }
        let lines = try promptsFile.map { try PromptLine.load(path: $0, defaults: sampling.samplingParams) }
        let tokenizer = try AutoTokenizer.load(directory: modelOptions.directory)
        let prompts = lines == nil ? try ChatPromptBuilder.promptTokenIDs(
            prompt, chats: chat, system: system, directory: modelOptions.directory, tokenizer: tokenizer) : []
        let generation = TextGeneration(
            tokenizer: tokenizer,
            output: json ? .records { StandardOutput.write(try $0.jsonLine()) } : .text(write: StandardOutput.write))
        let ranks = tensorParallel.isEnabled ? try tensorParallel.startRanks(modelOptions: modelOptions, engine: engine, handlesSignals: true) : nil
        defer { ranks?.finish() }
        let maxStepTokens = max(engine.maxBatchedTokens, 16)
        let config = engine.engineConfig(pageSize: modelOptions.pageSize, seed: sampling.seed)
        if let lines {
            let model = try tensorParallel.loadModel(ranks, modelOptions: modelOptions, engine: engine, maxStepTokens: maxStepTokens)
            guard try generation.runBatch(lines, model: model, config: config) else { throw ExitCode(1) }
        } else if let ranks {
            // `--tp N` with `--prompt`/`--chat`: the engine drives rank 0 of the group.
            let leader = try tensorParallel.joinAsLeader(
                ranks, modelOptions: modelOptions, engine: engine, maxStepTokens: maxStepTokens)
            let probe = TensorParallelStatistics(leader)
            let isProbing = tensorParallel.tpStats
            try generation.run(
                prompts, params: sampling.samplingParams, model: leader, config: config,
                observe: { event in if isProbing { probe.observe(event) } })
            if isProbing { StandardOutput.writeError(probe.report(size: tensorParallel.size)) }
        } else {
            let model = try modelOptions.loadModel(maxStepTokens: maxStepTokens, requirements: config.deviceRequirements)
            try generation.run(prompts, params: sampling.samplingParams, model: model, config: config)
        }
    }
}

/// `generate --url`: the prompts go to a router's `/v1/completions` (`--chat` messages to
/// `/v1/chat/completions`, which renders the served model's template) one after another.
extension GenerateCommand {
    /// Rejects flags that only mean something for a model loaded here.
    func validateServed() throws {
        if let problem = ServedGeneration.localOnlyProblem(
            promptsFile: promptsFile != nil, tensorParallel: tensorParallel.isEnabled, model: modelOptions.isModelGiven,
            engineFlags: engine.kvMemory != nil || engine.noPrefixCache, stopTokenIDs: !sampling.stopTokenIDs.isEmpty
        ) { throw ValidationError(problem) }
    }

    func runServed() throws {
        let client = try server.client()
        try ServedGeneration(
            client: client, isStreaming: !served.noStream, output: json ? .jsonLines : .text, write: StandardOutput.write
        ).generate(
            prompts: prompt, chats: chat, system: system, model: try client.modelName(served.modelName), sampling: served.fields(sampling))
    }
}
