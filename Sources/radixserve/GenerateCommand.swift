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
        let model = try modelOptions.loadModel()
        let generator = try Generator(model: model, pageSize: modelOptions.pageSize)
        generator.eosTokenIDs.formUnion(tokenizer.eosTokenIDs.map(Int32.init))
        for ids in try promptTokenIDs(tokenizer: tokenizer) {
            var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
            let result = try generator.generate(prompt: ids, params: sampling.samplingParams) { token in
                stream(token, generator: generator, into: &detokenizer)
                return true
            }
            try finish(result, tokenizer: tokenizer, detokenizer: &detokenizer)
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

    /// Streams `token`'s text to stdout (unless `--json`). The token that ends generation (EOS or a
    /// stop id) is not part of the answer on a terminal and is not printed.
    func stream(_ token: Int32, generator: Generator, into detokenizer: inout StreamingDetokenizer) {
        let options = sampling.samplingParams
        let isStop = options.stopTokenIDs.contains(token) || (!options.ignoreEOS && generator.eosTokenIDs.contains(token))
        if !json && !isStop { StandardOutput.write(detokenizer.append(Int(token))) }
    }

    /// Ends one prompt's output: the `--json` line, or the rest of the streamed text and a newline.
    func finish(_ result: Generation, tokenizer: any Tokenizer, detokenizer: inout StreamingDetokenizer) throws {
        if json {
            let line = GenerationRecord(
                promptTokenIDs: result.promptTokenIDs, tokenIDs: result.tokenIDs,
                text: tokenizer.decode(result.tokenIDs.map(Int.init), skipSpecialTokens: false),
                finishReason: result.finishReason.openAIName)
            StandardOutput.write(try line.jsonLine())
        } else {
            StandardOutput.write(detokenizer.finish() + "\n")
        }
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
