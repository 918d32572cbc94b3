// RadixServe: POST /generate (SGLang's native API).

import Foundation
import HTTPTypes
import Hummingbird
import RouterService
import ServingTypes
import Tokenizers
import WireProtocol

/// The `/generate` response (and each streamed event, cumulative as SGLang sends them). With
/// `n` > 1 the answer is an array of one response per sample, and each streamed event names its
/// sample in `index`.
struct GenerateResponse: Encodable, Sendable {
    var index: Int?
    var text: String
    var outputIDs: [Int32]
    var metaInfo: MetaInfo

    struct MetaInfo: Encodable, Sendable {
        var id: String
        var promptTokens: Int
        var completionTokens: Int
        var cachedTokens: Int
        var finishReason: FinishReason?
        var outputTokenLogprobs: [Float]?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(promptTokens, forKey: .promptTokens)
            try container.encode(completionTokens, forKey: .completionTokens)
            try container.encode(cachedTokens, forKey: .cachedTokens)
            try container.encode(finishReason, forKey: .finishReason)
            try container.encodeIfPresent(outputTokenLogprobs, forKey: .outputTokenLogprobs)
        }

        enum CodingKeys: String, CodingKey {
            case id
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
            case cachedTokens = "cached_tokens"
            case finishReason = "finish_reason"
            case outputTokenLogprobs = "output_token_logprobs"
        }
    }

    struct FinishReason: Encodable, Sendable {
        var type: String
        var matched: Matched?

        enum Matched: Encodable, Sendable {
            case token(Int32)
            case text(String)

            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                switch self {
                case .token(let id): try container.encode(id)
                case .text(let text): try container.encode(text)
                }
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case index
        case text
        case outputIDs = "output_ids"
        case metaInfo = "meta_info"
    }
}

extension RouterHTTPServer {
    func generate(_ request: Request, _ context: RouterRequestContext) async throws -> Response {
        var request = request
        let data = try await JSONBody.read(&request)
        let body = try JSONBody.decode(GenerateRequest.self, from: data)
        let format = try OutputFormat.generate(Array(data))
        let prompt: CompletionRequest.Prompt
        switch (body.text, body.inputIDs) {
        case (let text?, nil): prompt = .text(text)
        case (nil, let ids?): prompt = .tokenIDs(ids)
        case (.some, .some): throw APIError.invalid("give either text or input_ids, not both", param: "text")
        case (nil, nil): throw APIError.invalid("missing required parameter 'text' (or 'input_ids')", param: "text")
        }
        let sampling = body.sampling ?? SamplingFields()
        let logprobs = body.returnLogprob ? (body.topLogprobsNumber ?? 0) : nil
        let params = try sampling.params(defaultMaxTokens: 128, logprobs: logprobs, logprobsName: "top_logprobs_num", body: format)
        let tokens = try model.tokens(of: prompt)
        try model.check(prompt: tokens, maxTokens: params.maxTokens, maxTokensName: sampling.maxTokensName.rawValue)
        let choices = sampling.choiceCount
        let (handles, pass) = try await driver.start(
            tokens, params, choices: choices, admission: admission, key: context.apiKeyName, priority: body.priority)
        let returnLogprob = body.returnLogprob
        @Sendable func response(
            _ index: Int, _ outcome: GenerationOutcome?, text: String, ids: [Int32], logprobs: [Float], usage: Usage?
        ) -> GenerateResponse {
            let reason = outcome.map { outcome in
                GenerateResponse.FinishReason(
                    type: outcome.finishReason,
                    matched: outcome.matchedStop.map {
                        switch $0 {
                        case .string(let text): .text(text)
                        case .token(let id): .token(id)
                        }
                    })
            }
            return GenerateResponse(
                index: choices > 1 ? index : nil, text: text, outputIDs: ids,
                metaInfo: .init(
                    id: "\(handles[index].id)", promptTokens: usage?.promptTokens ?? tokens.count,
                    completionTokens: usage?.completionTokens ?? ids.count, cachedTokens: usage?.cachedTokens ?? 0,
                    finishReason: reason, outputTokenLogprobs: returnLogprob ? logprobs : nil))
        }
        @Sendable func final(_ index: Int, _ outcome: GenerationOutcome) -> GenerateResponse {
            response(
                index, outcome, text: outcome.text, ids: outcome.tokenIDs, logprobs: outcome.logprobs.map(\.logprob),
                usage: outcome.usage)
        }
        guard body.stream else {
            let outcomes = try await driver.run(handles, pass: pass, stopStrings: sampling.stop)
            let responses = outcomes.enumerated().map { final($0, $1) }
            return choices == 1 ? JSONBody.response(responses[0]) : JSONBody.response(responses)
        }
        return Self.eventStream { writer in
            var texts = [String](repeating: "", count: choices)
            var ids = [[Int32]](repeating: [], count: choices)
            var logprobs = [[Float]](repeating: [], count: choices)
            _ = try await driver.run(handles, pass: pass, stopStrings: sampling.stop) { index, piece in
                texts[index] += piece.text
                ids[index] += piece.tokenIDs
                logprobs[index] += piece.logprobs.map(\.logprob)
                try await writer.write(JSONBody.event(response(
                    index, nil, text: texts[index], ids: ids[index], logprobs: logprobs[index], usage: nil)))
            } onFinish: { index, outcome in
                try await writer.write(JSONBody.event(final(index, outcome)))
            }
        }
    }
}
