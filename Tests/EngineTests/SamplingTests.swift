import Certification
import Engine
import Scheduling
import ServingTypes
import Testing
import TestSupport

/// Sampling through the engine loop: seeds, penalties, logprobs, validation.
@Suite struct SamplingTests {
    static let sampled = SamplingParams(maxTokens: 24, temperature: 0.9, topK: 50, topP: 0.95, minP: 0.01, ignoreEOS: true)

    @Test func seededRequestsAreReproducibleAcrossBatchCompositions() throws {
        let reference = try ModelReference.load("llama-gqa")
        let collector = EventCollector()
        let engine = try EngineHarness.engine("llama-gqa", maxBatchedTokens: 16, collector: collector)
        defer { engine.shutdown() }
        var params = Self.sampled
        params.seed = 1234
        let prompt = reference.prompts[1].promptTokenIDs
        let alone = try EngineHarness.run(
            [EngineRequest(id: 1, promptTokenIDs: prompt, params: params)], on: engine, collector: collector)[0]
        // The same request among unseeded and differently seeded neighbours, submitted first and last.
        var batch = (0..<6).map { index in
            var other = Self.sampled
            other.seed = index % 2 == 0 ? nil : UInt64(index)
            return EngineRequest(id: RequestID(UInt64(10 + index)), promptTokenIDs: reference.prompts[index % 4].promptTokenIDs, params: other)
        }
        batch.insert(EngineRequest(id: 2, promptTokenIDs: prompt, params: params), at: 0)
        batch.append(EngineRequest(id: 3, promptTokenIDs: prompt, params: params))
        let outputs = try EngineHarness.run(batch, on: engine, collector: collector)
        #expect(alone.tokenIDs.count == 24)
        #expect(outputs[0].tokenIDs == alone.tokenIDs)
        #expect(outputs.last!.tokenIDs == alone.tokenIDs)
        // Sampling really samples: a different seed gives a different continuation.
        params.seed = 99
        let other = try EngineHarness.run(
            [EngineRequest(id: 4, promptTokenIDs: prompt, params: params)], on: engine, collector: collector)[0]
        #expect(other.tokenIDs != alone.tokenIDs)
    }

    @Test func penaltiesChangeGreedyOutputsDeterministically() throws {
        let reference = try ModelReference.load("llama-gqa")
        let collector = EventCollector()
        let engine = try EngineHarness.engine("llama-gqa", collector: collector)
        defer { engine.shutdown() }
        let prompt = reference.prompts[2]
        var penalised = EngineHarness.greedy
        penalised.repetitionPenalty = 5
        penalised.frequencyPenalty = 1.5
        penalised.presencePenalty = 1
        let requests = (1...2).map { EngineRequest(id: RequestID(UInt64($0)), promptTokenIDs: prompt.promptTokenIDs, params: penalised) }
        let outputs = try EngineHarness.run(requests, on: engine, collector: collector)
        #expect(outputs[0].tokenIDs == outputs[1].tokenIDs)
        #expect(outputs[0].tokenIDs != prompt.greedyTokenIDs)
        // Strong penalties discourage repeats relative to plain greedy decoding.
        #expect(Set(outputs[0].tokenIDs).count >= Set(prompt.greedyTokenIDs).count)
    }

    @Test func logprobsDescribeTheRawModelDistribution() throws {
        let reference = try ModelReference.load("llama-gqa")
        let collector = EventCollector()
        let engine = try EngineHarness.engine("llama-gqa", collector: collector)
        defer { engine.shutdown() }
        var params = EngineHarness.greedy
        params.logprobs = 5
        let prompt = reference.prompts[0]
        let output = try EngineHarness.run(
            [EngineRequest(id: 1, promptTokenIDs: prompt.promptTokenIDs, params: params)], on: engine, collector: collector)[0]
        #expect(output.tokenIDs == prompt.greedyTokenIDs)
        #expect(output.logprobs.count == output.tokenIDs.count)
        for (token, logprobs) in zip(output.tokenIDs, output.logprobs) {
            #expect(logprobs.top.count == 5)
            #expect(logprobs.top[0].tokenID == token)  // greedy: the chosen token is the most likely
            #expect(logprobs.logprob == logprobs.top[0].logprob && logprobs.logprob <= 0)
        }
        // The first token's distribution is the stored last-prompt-position logits.
        let logits = prompt.lastLogits
        let maximum = logits.max()!
        let normaliser = maximum + Float(log(logits.map { Double(expf($0 - maximum)) }.reduce(0, +)))
        #expect(abs(output.logprobs[0].logprob - (logits[Int(output.tokenIDs[0])] - normaliser)) < 1e-3)
    }

    @Test(arguments: [
        (SamplingParams(temperature: -1), "temperature"), (SamplingParams(topP: 0), "top_p"),
        (SamplingParams(topK: -2), "top_k"), (SamplingParams(minP: 2), "min_p"),
        (SamplingParams(frequencyPenalty: 3), "frequency_penalty"), (SamplingParams(presencePenalty: -3), "presence_penalty"),
        (SamplingParams(repetitionPenalty: 0), "repetition_penalty"), (SamplingParams(maxTokens: 0), "max_tokens"),
        (SamplingParams(stopTokenIDs: [-1]), "stop_token_ids"), (SamplingParams(logprobs: 21), "logprobs"),
    ])
    func invalidParametersAreRejectedByName(params: SamplingParams, name: String) throws {
        let collector = EventCollector()
        let engine = try EngineHarness.engine("llama-gqa", collector: collector)
        defer { engine.shutdown() }
        let output = try EngineHarness.run(
            [EngineRequest(id: 1, promptTokenIDs: [1, 2, 3], params: params)], on: engine, collector: collector)[0]
        let message = try #require(output.reason?.errorMessage)
        #expect(message.contains(name), "\(message)")
        #expect(output.tokenIDs.isEmpty)
    }

    @Test func outOfVocabularyPromptsAreRejected() throws {
        let collector = EventCollector()
        let engine = try EngineHarness.engine("llama-gqa", collector: collector)
        defer { engine.shutdown() }
        let output = try EngineHarness.run(
            [EngineRequest(id: 1, promptTokenIDs: [1, 5000], params: EngineHarness.greedy)], on: engine,
            collector: collector)[0]
        #expect(output.reason?.errorMessage?.contains("5000") == true)
    }
}

#if canImport(Glibc)
import Glibc
#endif
