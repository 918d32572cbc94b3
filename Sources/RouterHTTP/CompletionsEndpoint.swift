// RadixServe: POST /v1/completions.

import Foundation
import HTTPTypes
import Hummingbird
import RouterService
import ServingTypes
import Tokenizers
import WireProtocol

extension RouterHTTPServer {
    func completions(_ request: Request, _ context: RouterRequestContext) async throws -> Response {
        var request = request
        let data = try await JSONBody.read(&request)
        let body = try JSONBody.decode(CompletionRequest.self, from: data)
        let format = try OutputFormat.openAI(Array(data))
        try model.check(model: body.model)
        let params = try body.sampling.params(defaultMaxTokens: 16, logprobs: body.logprobs, body: format)
        let tokens = try model.tokens(of: body.prompt)
        try model.check(prompt: tokens, maxTokens: params.maxTokens, maxTokensName: body.sampling.maxTokensName.rawValue)
        let choices = body.sampling.choiceCount
        let (handles, pass) = try await driver.start(
            tokens, params, choices: choices, admission: admission, key: context.apiKeyName, priority: body.priority)
        let id = "cmpl-\(handles[0].id)"
        let created = Int(Date().timeIntervalSince1970)
        let echoed = body.echo ? model.tokenizer.decode(tokens.map(Int.init), skipSpecialTokens: true) : ""
        let stops = body.sampling.stop
        @Sendable func response(_ choices: [CompletionResponse.Choice], usage: Usage? = nil) -> CompletionResponse {
            CompletionResponse(id: id, created: created, model: model.id, choices: choices, usage: usage)
        }
        guard body.stream else {
            let outcomes = try await driver.run(handles, pass: pass, stopStrings: stops)
            let choices = outcomes.enumerated().map { index, outcome in
                CompletionResponse.Choice(
                    index: index, text: echoed + outcome.text,
                    logprobs: body.logprobs.map { _ in completionLogprobs(outcome, offset: echoed.utf8.count) },
                    finishReason: outcome.finishReason,
                    tokenIDs: body.returnTokenIDs ? outcome.tokenIDs.map(Int.init) : nil)
            }
            return JSONBody.response(response(choices, usage: GenerationOutcome.usage(of: outcomes)))
        }
        let includeUsage = body.includeUsage
        let wantsLogprobs = body.logprobs != nil
        let returnTokenIDs = body.returnTokenIDs
        return Self.eventStream { writer in
            if !echoed.isEmpty {
                for index in 0..<choices {
                    try await writer.write(JSONBody.event(response([.init(index: index, text: echoed, logprobs: nil, finishReason: nil)])))
                }
            }
            var offsets = [Int](repeating: echoed.utf8.count, count: choices)
            let outcomes = try await driver.run(handles, pass: pass, stopStrings: stops) { index, piece in
                var logprobs: CompletionLogprobs?
                if wantsLogprobs {
                    logprobs = completionLogprobs(
                        GenerationOutcome(
                            finishReason: "", usage: Usage(prompt: 0, completion: 0, cached: 0), text: piece.text,
                            tokenIDs: piece.tokenIDs, logprobs: piece.logprobs), offset: offsets[index])
                }
                offsets[index] += piece.text.utf8.count
                try await writer.write(JSONBody.event(response([.init(
                    index: index, text: piece.text, logprobs: logprobs, finishReason: nil,
                    tokenIDs: returnTokenIDs ? piece.tokenIDs.map(Int.init) : nil)])))
            } onFinish: { index, outcome in
                try await writer.write(JSONBody.event(response([.init(
                    index: index, text: "", logprobs: nil, finishReason: outcome.finishReason)])))
            }
            if includeUsage { try await writer.write(JSONBody.event(response([], usage: GenerationOutcome.usage(of: outcomes)))) }
        }
    }

    /// Legacy log-probabilities of `outcome`'s tokens; `offset` is the text offset of the first.
    func completionLogprobs(_ outcome: GenerationOutcome, offset: Int) -> CompletionLogprobs {
        var result = CompletionLogprobs()
        var position = offset
        for (id, logprob) in zip(outcome.tokenIDs, outcome.logprobs) {
            let token = model.tokenizer.decode([Int(id)], skipSpecialTokens: false)
            result.tokens.append(token)
            result.tokenLogprobs.append(logprob.logprob)
            var top: [String: Float] = [:]
            for alternative in logprob.top {
                top[model.tokenizer.decode([Int(alternative.tokenID)], skipSpecialTokens: false)] = alternative.logprob
            }
            result.topLogprobs.append(top)
            result.textOffset.append(position)
            position += token.utf8.count
        }
        return result
    }
}
