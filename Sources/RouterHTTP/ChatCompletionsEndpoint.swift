// RadixServe: POST /v1/chat/completions.

import Foundation
import HTTPTypes
import Hummingbird
import RouterService
import ServingTypes
import Tokenizers
import WireProtocol

extension RouterHTTPServer {
    func chatCompletions(_ request: Request, _ context: RouterRequestContext) async throws -> Response {
        var request = request
        let data = try await JSONBody.read(&request)
        let body = try JSONBody.decode(ChatCompletionRequest.self, from: data)
        let format = try OutputFormat.openAI(Array(data))
        try model.check(model: body.model)
        guard let chatPrompt = model.chatPrompt else {
            throw APIError.invalid("the model '\(model.id)' has no chat template; use /v1/completions", param: "messages")
        }
        guard !body.messages.isEmpty else { throw APIError.invalid("messages must not be empty", param: "messages") }
        let tokens: [Int32]
        do {
            tokens = try chatPrompt.tokenIDs(body.messages.map { ($0.role, $0.content) }, tokenizer: model.tokenizer)
        } catch {
            throw APIError.invalid("the chat template rejected the messages: \(error)", param: "messages")
        }
        if let top = body.topLogprobs, !body.logprobs {
            throw APIError.invalid("top_logprobs (\(top)) requires logprobs: true", param: "top_logprobs")
        }
        let logprobs = body.logprobs ? (body.topLogprobs ?? 0) : nil
        let remaining = max(model.maxModelLength - tokens.count, 1)
        let params = try body.sampling.params(
            defaultMaxTokens: remaining, logprobs: logprobs, logprobsName: "top_logprobs", body: format)
        try model.check(prompt: tokens, maxTokens: params.maxTokens, maxTokensName: body.sampling.maxTokensName.rawValue)
        let choices = body.sampling.choiceCount
        let (handles, pass) = try await driver.start(
            tokens, params, choices: choices, admission: admission, key: context.apiKeyName, priority: body.priority)
        let id = "chatcmpl-\(handles[0].id)"
        let created = Int(Date().timeIntervalSince1970)
        let stops = body.sampling.stop
        guard body.stream else {
            let outcomes = try await driver.run(handles, pass: pass, stopStrings: stops)
            let choices = outcomes.enumerated().map { index, outcome in
                ChatCompletionResponse.Choice(
                    index: index, message: .assistant(outcome.text),
                    logprobs: body.logprobs ? chatLogprobs(outcome.tokenIDs, outcome.logprobs) : nil,
                    finishReason: outcome.finishReason, tokenIDs: body.returnTokenIDs ? outcome.tokenIDs.map(Int.init) : nil)
            }
            return JSONBody.response(ChatCompletionResponse(
                id: id, object: "chat.completion", created: created, model: model.id, choices: choices,
                usage: GenerationOutcome.usage(of: outcomes)))
        }
        @Sendable func chunk(_ choices: [ChatCompletionResponse.Choice], usage: Usage? = nil) -> ChatCompletionResponse {
            ChatCompletionResponse(id: id, object: "chat.completion.chunk", created: created, model: model.id, choices: choices, usage: usage)
        }
        let includeUsage = body.includeUsage
        let wantsLogprobs = body.logprobs
        let returnTokenIDs = body.returnTokenIDs
        return Self.eventStream { writer in
            for index in 0..<choices {
                try await writer.write(JSONBody.event(chunk([.init(index: index, delta: .init(role: "assistant", content: ""))])))
            }
            let outcomes = try await driver.run(handles, pass: pass, stopStrings: stops) { index, piece in
                let logprobs = wantsLogprobs ? chatLogprobs(piece.tokenIDs, piece.logprobs) : nil
                try await writer.write(JSONBody.event(chunk([.init(
                    index: index, delta: .init(content: piece.text), logprobs: logprobs,
                    tokenIDs: returnTokenIDs ? piece.tokenIDs.map(Int.init) : nil)])))
            } onFinish: { index, outcome in
                try await writer.write(JSONBody.event(chunk([.init(index: index, delta: .init(), finishReason: outcome.finishReason)])))
            }
            if includeUsage { try await writer.write(JSONBody.event(chunk([], usage: GenerationOutcome.usage(of: outcomes)))) }
        }
    }

    func chatLogprobs(_ tokenIDs: [Int32], _ logprobs: [TokenLogprobs]) -> ChatLogprobs {
        var result = ChatLogprobs()
        for (id, logprob) in zip(tokenIDs, logprobs) {
            let token = model.tokenizer.decode([Int(id)], skipSpecialTokens: false)
            let top = logprob.top.map { alternative in
                let text = model.tokenizer.decode([Int(alternative.tokenID)], skipSpecialTokens: false)
                return ChatLogprobs.Alternative(token: text, logprob: alternative.logprob, bytes: Array(text.utf8))
            }
            result.content.append(.init(token: token, logprob: logprob.logprob, bytes: Array(token.utf8), topLogprobs: top))
        }
        return result
    }
}
