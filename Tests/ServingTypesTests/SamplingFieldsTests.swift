import Foundation
import ServingTypes
import Testing

@Suite struct SamplingFieldsTests {
    private func json(_ value: some Encodable) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as? [String: Any])
    }

    private func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    @Test func encodingLeavesOutFieldsAtTheirOffValues() throws {
        let off = SamplingFields(
            maxTokens: 4, topP: 1, topK: 0, minP: 0, frequencyPenalty: 0, presencePenalty: 0, repetitionPenalty: 1)
        let request = CompletionRequest(model: nil, prompt: .text("hi"), sampling: off)
        #expect(Set(try json(request).keys) == ["prompt", "max_tokens", "stream"])
        var streamed = request
        streamed.stream = true
        #expect(Set(try json(streamed).keys) == ["prompt", "max_tokens", "stream", "stream_options"])
    }

    @Test func decodingAcceptsEveryMaxTokensNameAndRemembersIt() throws {
        for name in SamplingFields.MaxTokensName.allCases {
            let fields = try decode(SamplingFields.self, #"{"\#(name.rawValue)": 7, "stop": "end"}"#)
            #expect(fields.maxTokens == 7 && fields.maxTokensName == name && fields.stop == ["end"])
            #expect(try json(fields)[name.rawValue] as? Int == 7, "encodes under the name it was sent as")
        }
    }

    @Test func requestsRoundTrip() throws {
        let chat = ChatCompletionRequest(
            model: "m", messages: [.system("Be brief."), .user("Hi")],
            sampling: SamplingFields(maxTokens: 3, temperature: 0.5, stop: ["\n"], cacheSalt: "s"), logprobs: true,
            topLogprobs: 2)
        var decodedChat = try decode(ChatCompletionRequest.self, String(decoding: JSONEncoder().encode(chat), as: UTF8.self))
        decodedChat.includeUsage = true  // sent only on streams
        #expect(decodedChat == chat)
        let completion = CompletionRequest(
            model: nil, prompt: .tokenIDs([1, 2]), sampling: SamplingFields(seed: -5, ignoreEOS: true), logprobs: 1,
            returnTokenIDs: true)
        var decoded = try decode(CompletionRequest.self, String(decoding: JSONEncoder().encode(completion), as: UTF8.self))
        decoded.includeUsage = true  // sent only on streams
        #expect(decoded == completion)
    }

    @Test func conversionAppliesDefaultsAndNamesTheFieldAsSent() throws {
        let params = try SamplingFields(seed: -1).samplingParams(defaultMaxTokens: 16)
        #expect(params.maxTokens == 16 && params.temperature == 1 && params.topP == 1 && params.seed == .max)
        let cases: [(SamplingFields, String, String)] = [
            (SamplingFields(maxTokens: 0, maxTokensName: .maxCompletionTokens), "logprobs", "max_completion_tokens"),
            (SamplingFields(maxTokens: 0, maxTokensName: .maxNewTokens), "logprobs", "max_new_tokens"),
            (SamplingFields(), "top_logprobs", "top_logprobs"),
            (SamplingFields(n: 17), "logprobs", "n"),
            (SamplingFields(stopTokenIDs: [Int(Int32.max) + 1]), "logprobs", "stop_token_ids"),
        ]
        for (fields, logprobsName, expected) in cases {
            #expect {
                try fields.samplingParams(defaultMaxTokens: 16, logprobs: 25, logprobsName: logprobsName)
            } throws: { error in
                guard let invalid = error as? InvalidParameter else { return false }
                return invalid.name == expected && invalid.description.contains(expected)
            }
        }
    }

    @Test func commandLineValuesAndErrorsUseTheFlagsSpelling() throws {
        #expect(SamplingFields.decimal(0.7) == 0.7 && Double(Float(0.7)) != 0.7)
        let cases: [(SamplingFields, String)] = [
            (SamplingFields(topP: 0), "--top-p 0.0 is out of range: must be in (0, 1]"),
            (SamplingFields(maxTokens: 0), "--max-tokens 0 is out of range: must be in [1, ∞)"),
            (SamplingFields(repetitionPenalty: 0), "--repetition-penalty 0.0 is out of range: must be in (0, 100]"),
        ]
        for (fields, expected) in cases {
            let error = #expect(throws: InvalidParameter.self) { try fields.samplingParams(defaultMaxTokens: 16) }
            #expect(error?.flagDescription == expected)
        }
        #expect(InvalidParameter(name: "stop_token_ids", value: "-1", allowed: "[0, ∞)").flag == "--stop-token-id")
    }

    @Test func responsesDecodeLenientlyAndErrorsKeepNumericCodes() throws {
        let usage = try decode(Usage.self, #"{"prompt_tokens": 3, "prompt_tokens_details": null}"#)
        #expect(usage == Usage(promptTokens: 3, completionTokens: 0))
        let chunk = try decode(CompletionResponse.self, #"{"choices": [{"text": "a"}]}"#)
        #expect(chunk.choices.first?.text == "a" && chunk.id == nil)
        let error = try decode(APIErrorBody.self, #"{"error": {"message": "gone", "code": 503}}"#)
        #expect(error.error.message == "gone" && error.error.code == "503")
        let encoded = try json(APIErrorBody(error: .init(message: "m", type: "t")))
        #expect((encoded["error"] as? [String: Any])?["param"] is NSNull)
    }
}

@Suite struct SamplingChoicesTests {
    @Test func nIsAcceptedUpToTheLimitAndRefusedOutsideIt() throws {
        #expect(SamplingFields().choiceCount == 1)
        for n in [1, 3, SamplingFields.maxChoices] {
            _ = try SamplingFields(n: n).samplingParams(defaultMaxTokens: 4)
            #expect(SamplingFields(n: n).choiceCount == n)
        }
        for n in [0, -1, SamplingFields.maxChoices + 1] {
            let error = #expect(throws: InvalidParameter.self) { try SamplingFields(n: n).samplingParams(defaultMaxTokens: 4) }
            #expect(error?.name == "n" && error?.description.contains("between 1 and \(SamplingFields.maxChoices)") == true)
        }
    }

    @Test func sampleSeedsDeriveFromTheRequestSeed() {
        let params = SamplingParams(temperature: 1, seed: 42)
        #expect(params.forChoice(0).seed == 42, "sample 0 is the request with n = 1")
        let seeds = (0..<16).map { params.forChoice($0).seed! }
        #expect(Set(seeds).count == 16)
        #expect(seeds == (0..<16).map { params.forChoice($0).seed! }, "the same on every call")
        #expect(SamplingParams(seed: 43).forChoice(1).seed != seeds[1])
        #expect(SamplingParams(temperature: 1).forChoice(3).seed == nil, "unseeded samples draw their own")
        var changed = params.forChoice(2)
        changed.seed = params.seed
        #expect(changed == params, "only the seed differs")
    }
}
