import ServingTypes
import Testing

@Suite struct StopRuleTests {
    let rule = StopRule(eosTokenIDs: [2], maxModelLength: 20)

    @Test func eosStopsUnlessIgnored() {
        let params = SamplingParams(maxTokens: 8)
        #expect(rule.finishReason(params: params, lastToken: 2, outputCount: 1, sequenceLength: 5) == .stop(tokenID: 2))
        var ignoring = params
        ignoring.ignoreEOS = true
        #expect(rule.finishReason(params: ignoring, lastToken: 2, outputCount: 1, sequenceLength: 5) == nil)
    }

    @Test func requestStopTokensStopEvenWithIgnoreEOS() {
        let params = SamplingParams(maxTokens: 8, stopTokenIDs: [7], ignoreEOS: true)
        #expect(rule.finishReason(params: params, lastToken: 7, outputCount: 3, sequenceLength: 9) == .stop(tokenID: 7))
        #expect(rule.isStopToken(7, params: params))
        #expect(!rule.isStopToken(2, params: params))
    }

    @Test func maxTokensAndModelLengthEndWithLength() {
        let params = SamplingParams(maxTokens: 4)
        #expect(rule.finishReason(params: params, lastToken: 5, outputCount: 3, sequenceLength: 10) == nil)
        #expect(rule.finishReason(params: params, lastToken: 5, outputCount: 4, sequenceLength: 11) == .length)
        #expect(rule.finishReason(params: SamplingParams(maxTokens: 100), lastToken: 5, outputCount: 9, sequenceLength: 20) == .length)
    }

    @Test func aStopTokenOnTheLastAllowedPositionIsAStop() {
        let params = SamplingParams(maxTokens: 4)
        #expect(rule.finishReason(params: params, lastToken: 2, outputCount: 4, sequenceLength: 20) == .stop(tokenID: 2))
    }

    @Test func finishReasonNames() {
        #expect(FinishReason.stop(tokenID: 1).openAIName == "stop")
        #expect(FinishReason.length.openAIName == "length")
        #expect(FinishReason.abort.openAIName == "abort")
        #expect(FinishReason.error(message: "x").openAIName == "error")
        #expect(FinishReason.error(message: "bad").errorMessage == "bad")
        #expect(FinishReason.length.errorMessage == nil)
    }
}
