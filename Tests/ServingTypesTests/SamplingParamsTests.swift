import ServingTypes
import Testing

@Suite struct SamplingParamsTests {
    @Test func defaultsAreValid() throws {
        try SamplingParams().validate()
        try SamplingParams(temperature: 0, topK: -1, topP: 0.5, minP: 1, repetitionPenalty: 1.3, logprobs: 20)
            .validate()
    }

    static let invalid: [(SamplingParams, String)] = [
        (SamplingParams(maxTokens: 0), "max_tokens"),
        (SamplingParams(temperature: -0.1), "temperature"),
        (SamplingParams(temperature: .nan), "temperature"),
        (SamplingParams(temperature: 101), "temperature"),
        (SamplingParams(topK: -2), "top_k"),
        (SamplingParams(topP: 0), "top_p"),
        (SamplingParams(topP: 1.01), "top_p"),
        (SamplingParams(minP: -0.01), "min_p"),
        (SamplingParams(minP: .infinity), "min_p"),
        (SamplingParams(frequencyPenalty: 2.5), "frequency_penalty"),
        (SamplingParams(presencePenalty: -2.5), "presence_penalty"),
        (SamplingParams(repetitionPenalty: 0), "repetition_penalty"),
        (SamplingParams(stopTokenIDs: [-1]), "stop_token_ids"),
        (SamplingParams(logprobs: 21), "logprobs"),
    ]

    @Test(arguments: invalid.indices)
    func rejectsOutOfRangeValuesNamingTheParameter(index: Int) {
        let (params, name) = Self.invalid[index]
        #expect {
            try params.validate()
        } throws: { error in
            guard let invalid = error as? InvalidParameter else { return false }
            return invalid.name == name && !invalid.allowed.isEmpty && "\(error)".contains(name)
        }
    }

    @Test func greedyDetection() {
        #expect(SamplingParams(temperature: 0).isGreedy)
        #expect(SamplingParams(topK: 1).isGreedy)
        #expect(!SamplingParams().isGreedy)
    }
}
