import ArgumentParser
import Engine
import Foundation
import Models
import Scheduling
import Tokenizers

/// `radixserve generate`: run prompts through a model in this process and stream the text.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from prompts with a local model, streaming to stdout.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var engine: EngineOptions
    @OptionGroup var tensorParallel: TensorParallelOptions

    @Option(name: .long, help: "Prompt text; repeat for several prompts.")
    var prompt: [String] = []

    @Option(help: "JSONL file of {\"prompt\": ...} lines (optional per-line sampling fields), run as one batch.")
    var promptsFile: String?

    @Flag(help: "Print one JSON object per prompt instead of streaming text.")
    var json = false

    func validate() throws {
        guard prompt.isEmpty != (promptsFile == nil) else {
            throw ValidationError("give either --prompt (repeatable) or --prompts-file")
        }
        try sampling.samplingParams.validate()
    }

    func run() throws {
        if tensorParallel.isEnabled { return try runTensorParallel() }
        if let promptsFile { return try runBatch(path: promptsFile) }
        let tokenizer = try AutoTokenizer.load(directory: modelOptions.directory)
        let model = try modelOptions.loadModel()
        let generator = try Generator(model: model, pageSize: modelOptions.pageSize)
        generator.eosTokenIDs.formUnion(tokenizer.eosTokenIDs.map(Int32.init))
        for text in prompt {
            let ids = tokenizer.encode(text, addSpecialTokens: true).map(Int32.init)
            var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
            let result = try generator.generate(prompt: ids, options: sampling.generationOptions) { token in
                if !json { StandardOutput.write(detokenizer.append(Int(token))) }
                return true
            }
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

    func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}
