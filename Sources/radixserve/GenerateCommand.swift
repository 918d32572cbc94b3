import ArgumentParser
import Engine
import Foundation
import Models
import RouterService
import Scheduling
import ServingTypes
import Tokenizers

/// `radixserve generate`: run prompts through a model in this process and stream the text, or
/// send them to a router with `--url` (see `GenerateCommand+Server.swift`).
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

    @Option(name: .long, help: "Prompt text; repeat for several prompts.")
    var prompt: [String] = []

    @Option(name: .long, help: "A user message, rendered with the model's chat template; repeat for several.")
    var chat: [String] = []

    @Option(help: "System message placed before each --chat message.")
    var system: String?

    @Option(help: "JSONL file of {\"prompt\": ...} lines (optional per-line sampling fields), run as one batch.")
    var promptsFile: String?

    @Flag(help: "Print one JSON object per prompt instead of streaming text.")
    var json = false

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
        if let promptsFile { return try runBatch(path: promptsFile) }
        if tensorParallel.isEnabled { return try runTensorParallel() }
        let tokenizer = try AutoTokenizer.load(directory: modelOptions.directory)
        let model = try modelOptions.loadModel(
            maxStepTokens: max(engine.maxBatchedTokens, 16), requirements: engine.deviceRequirements(pageSize: modelOptions.pageSize))
        let queue = EngineEventQueue()
        let loop = try EngineLoop(model: model, config: sequentialEngineConfig(tokenizer: tokenizer), sink: queue.receive)
        defer { loop.shutdown() }
        try generate(promptTokenIDs(tokenizer: tokenizer), on: loop, queue: queue, tokenizer: tokenizer)
    }
}

extension GenerateCommand {
    /// The engine of `--prompt`/`--chat`: the prompts run one after another, so one request at a
    /// time, and the tokenizer's end-of-sequence tokens stop generation too.
    func sequentialEngineConfig(tokenizer: any Tokenizer) -> EngineConfig {
        var config = engine.engineConfig(pageSize: modelOptions.pageSize, seed: sampling.seed)
        config.maxRunningRequests = 1
        config.extraEOSTokenIDs = Set(tokenizer.eosTokenIDs.map(Int32.init))
        return config
    }

    /// Runs each prompt to its end on `loop` (whose sink is `queue`), streaming its text as the
    /// tokens arrive and then printing the rest or the `--json` line. `onToken` also sees each
    /// token. A request that fails ends the command with its message.
    func generate(
        _ prompts: [[Int32]], on loop: EngineLoop, queue: EngineEventQueue, tokenizer: any Tokenizer,
        onToken: (Int32) -> Void = { _ in }
    ) throws {
        let params = sampling.samplingParams
        let stopIDs = params.stopTokenIDs.union(params.ignoreEOS ? [] : loop.schedulerConfig.eosTokenIDs)
        for (index, ids) in prompts.enumerated() {
            var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
            let request = EngineRequest(id: RequestID(UInt64(index)), promptTokenIDs: ids, params: params)
            let output = try queue.run(request, on: loop) { token in
                onToken(token)
                // The token that ends generation (EOS or a stop id) is not part of the answer on a terminal.
                if !json && !stopIDs.contains(token) { StandardOutput.write(detokenizer.append(Int(token))) }
            }
            let reason = output.reason ?? .error(message: "no result")
            if let message = reason.errorMessage { throw EngineError(message) }
            if json {
                StandardOutput.write(try GenerationRecord(prompt: ids, output, tokenizer: tokenizer, isBatch: false).jsonLine())
            } else {
                StandardOutput.write(detokenizer.finish() + "\n")
            }
        }
    }
}

extension GenerateCommand {
    /// Token ids of every `--prompt` (encoded with the tokenizer's special tokens), then of every
    /// `--chat` message (rendered with the model's chat template).
    func promptTokenIDs(tokenizer: any Tokenizer) throws -> [[Int32]] {
        var prompts = prompt.map { tokenizer.encode($0, addSpecialTokens: true).map(Int32.init) }
        if !chat.isEmpty {
            guard let chatPrompt = try ChatPromptBuilder(directory: modelOptions.directory, tokenizer: tokenizer) else {
                throw ValidationError(
                    "the model in \(modelOptions.directory.path) has no chat template (tokenizer_config.json or chat_template.jinja)")
            }
            let head = system.map { [(role: "system", content: $0)] } ?? []
            prompts += try chat.map { try chatPrompt.tokenIDs(head + [(role: "user", content: $0)], tokenizer: tokenizer) }
        }
        return prompts
    }
}

/// The `--json` output line of one prompt.
struct GenerationRecord: Encodable {
    var promptTokenIDs: [Int32]
    var tokenIDs: [Int32]
    var text: String
    var finishReason: String
    var cachedTokens: Int?
    var error: String?

    enum CodingKeys: String, CodingKey {
        case promptTokenIDs = "prompt_token_ids"
        case tokenIDs = "token_ids"
        case text
        case finishReason = "finish_reason"
        case cachedTokens = "cached_tokens"
        case error
    }
}

extension GenerationRecord {
    /// The line of `output` for `prompt`; a `--prompts-file` line also carries the cached tokens and any error.
    init(prompt: [Int32], _ output: CollectedOutput, tokenizer: any Tokenizer, isBatch: Bool) {
        let reason = output.reason ?? .error(message: "no result")
        self.init(
            promptTokenIDs: prompt, tokenIDs: output.tokenIDs,
            text: tokenizer.decode(output.tokenIDs.map(Int.init), skipSpecialTokens: false), finishReason: reason.openAIName,
            cachedTokens: isBatch ? output.usage?.cachedTokenCount ?? 0 : nil, error: isBatch ? reason.errorMessage : nil)
    }
}
