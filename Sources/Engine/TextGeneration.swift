// RadixServe: prompts run to their end on an engine loop in this process, their text written out (`radixserve generate`).

import Scheduling
import ServingTypes
import StructuredOutput
import Tokenizers

/// Runs prompts on an engine loop of its own over a model in this process and writes what they
/// generate (`radixserve generate` without `--url`): the text of each prompt as its tokens
/// arrive, or one ``GenerationRecord`` per prompt.
///
/// The tokenizer's end-of-sequence tokens stop generation besides the model's. Each run starts
/// an ``EngineLoop`` that owns the model and shuts it down (a tensor-parallel leader's group with
/// it) before returning. Blocks its caller; the output closures run on the caller's thread.
public struct TextGeneration {
    /// Where each prompt's result goes.
    public enum Output {
        /// The text as it is generated, then a newline (`write` receives every piece).
        case text(write: (String) -> Void)
        /// One record per prompt once it finished, in prompt order.
        case records((GenerationRecord) throws -> Void)
    }

    public var tokenizer: any Tokenizer
    public var output: Output

    public init(tokenizer: any Tokenizer, output: Output) {
        self.tokenizer = tokenizer
        self.output = output
    }

    /// Runs `prompts` one after another with `params`, one request at a time (`--prompt`,
    /// `--chat`), writing each prompt's text as its tokens arrive. `observe` also sees every
    /// engine event, on the engine thread.
    /// - Throws: ``EngineError`` with the message of the first request that fails (the later
    ///   prompts are not run), or the engine's errors.
    public func run(
        _ prompts: [[Int32]], params: SamplingParams, model: sending any ForwardModel, config: EngineConfig,
        observe: (@Sendable (EngineEvent) -> Void)? = nil
    ) throws {
        var config = config
        config.maxRunningRequests = 1
        config.extraEOSTokenIDs = Set(tokenizer.eosTokenIDs.map(Int32.init))
        if params.constraint != nil && config.vocabulary == nil { config.vocabulary = TokenVocabulary(tokenizer: tokenizer) }
        let queue = EngineEventQueue()
        let loop = try EngineLoop(
            model: model, config: config,
            sink: { event in
                observe?(event)
                queue.receive(event)
            })
        defer { loop.shutdown() }
        let stopIDs = params.stopTokenIDs.union(params.ignoreEOS ? [] : loop.schedulerConfig.eosTokenIDs)
        for (index, ids) in prompts.enumerated() {
            var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
            let request = EngineRequest(id: RequestID(UInt64(index)), promptTokenIDs: ids, params: params)
            let output = try queue.run(request, on: loop) { token in
                // The token that ends generation (EOS or a stop id) is not part of the answer on a terminal.
                if case .text(let write) = self.output, !stopIDs.contains(token) { write(detokenizer.append(Int(token))) }
            }
            if let message = output.finalReason.errorMessage { throw EngineError(message) }
            switch self.output {
            case .text(let write): write(detokenizer.finish() + "\n")
            case .records(let record): try record(GenerationRecord(prompt: ids, output, tokenizer: tokenizer, isBatch: false))
            }
        }
    }

    /// Submits every prompt of a prompts file (`--prompts-file`) at once, each with its line's
    /// parameters, and writes one result per prompt in file order once all finished: its text
    /// after `[index] ` (or `[index] error: …`) and a newline, or its record.
    /// - Returns: whether every request succeeded.
    /// - Throws: the engine's errors (a failed request is written, not thrown).
    public func runBatch(_ lines: [PromptLine], model: sending any ForwardModel, config: EngineConfig) throws -> Bool {
        var config = config
        config.extraEOSTokenIDs = Set(tokenizer.eosTokenIDs.map(Int32.init))
        if lines.contains(where: { $0.params.constraint != nil }) && config.vocabulary == nil {
            config.vocabulary = TokenVocabulary(tokenizer: tokenizer)
        }
        let collector = EventCollector()
        let loop = try EngineLoop(model: model, config: config, sink: collector.receive)
        let prompts = lines.map { tokenizer.encode($0.prompt, addSpecialTokens: true).map(Int32.init) }
        let requests = lines.indices.map {
            EngineRequest(id: RequestID(UInt64($0)), promptTokenIDs: prompts[$0], params: lines[$0].params)
        }
        // The engine (and a tensor-parallel group with it) stops before the results are written.
        let outputs = try {
            defer { loop.shutdown() }
            return try collector.run(requests, on: loop)
        }()
        for (index, output) in outputs.enumerated() {
            switch self.output {
            case .text(let write):
                let error = output.finalReason.errorMessage.map { "error: \($0)" }
                write("[\(index)] " + (error ?? output.text(decodedBy: tokenizer)) + "\n")
            case .records(let record):
                try record(GenerationRecord(prompt: prompts[index], output, tokenizer: tokenizer, isBatch: true))
            }
        }
        return !outputs.contains { $0.reason?.errorMessage != nil }
    }
}

extension CollectedOutput {
    /// The finish reason, or an error when the engine never finished the request.
    var finalReason: FinishReason { reason ?? .error(message: "no result") }

    /// The generated text, special tokens included.
    func text(decodedBy tokenizer: any Tokenizer) -> String {
        tokenizer.decode(tokenIDs.map(Int.init), skipSpecialTokens: false)
    }
}
