// Structured outputs, logit_bias and min_tokens through the engine loop on a tiny random model.

import Engine
import Foundation
import Scheduling
import ServingTypes
import StructuredOutput
import Testing
import TestSupport
import Tokenizers

@Suite struct StructuredOutputEngineTests {
    static let modelName = "llama-gqa"
    static let eos: Int32 = 820
    static let vocabulary: TokenVocabulary = {
        let tokenizer = try! AutoTokenizer.load(directory: Fixtures.model(modelName))
        return TokenVocabulary(tokenizer: tokenizer, size: 821)
    }()
    static let prompt: [Int32] = [5, 77, 301, 42, 9, 150, 600, 12]

    private func engine(pages: Int = 512, vocabulary: TokenVocabulary? = Self.vocabulary, collector: EventCollector) throws -> EngineLoop {
        let config = EngineConfig(
            pageSize: 4, kvMemory: .pages(pages), maxBatchedTokens: 64, isCheckingIntegrity: true, vocabulary: vocabulary)
        return try EngineLoop(model: try EngineHarness.model(Self.modelName), config: config, sink: collector.receive)
    }

    /// The output's bytes, a final end-of-sequence token left out.
    private func text(_ output: CollectedOutput) -> String {
        var ids = output.tokenIDs
        if ids.last == Self.eos { ids.removeLast() }
        return String(decoding: ids.flatMap { Self.vocabulary.bytes(of: Int($0)) }, as: UTF8.self)
    }

    /// Requests with `constraint` at temperature 0 and 1 under several seeds (run together).
    private func runVariants(_ constraint: OutputConstraint, maxTokens: Int, on engine: EngineLoop, collector: EventCollector)
        throws -> [CollectedOutput]
    {
        var requests: [EngineRequest] = []
        for (index, (temperature, seed)) in [(0.0, UInt64(0)), (1, 1), (1, 2), (1, 3), (1, 4), (1.3, 5)].enumerated() {
            let params = SamplingParams(maxTokens: maxTokens, temperature: temperature, seed: seed, constraint: constraint)
            requests.append(EngineRequest(id: RequestID(UInt64(100 + index)), promptTokenIDs: Self.prompt, params: params))
        }
        return try EngineHarness.run(requests, on: engine, collector: collector)
    }

    @Test func regexOutputsMatchAtEveryTemperature() throws {
        let collector = EventCollector()
        let engine = try engine(collector: collector)
        defer { engine.shutdown() }
        let regex = #"(yes|no|maybe), [0-9]{1,3}( [a-z]{1,6}){0,2}\."#
        for output in try runVariants(.regex(regex), maxTokens: 64, on: engine, collector: collector) {
            #expect(output.violations.isEmpty)
            #expect(output.reason == .stop(tokenID: Self.eos), "\(String(describing: output.reason))")
            #expect(try StructuredOutputs.matches(.regex(regex), text(output)), "\(text(output))")
        }
    }

    static let schema = """
        {"type": "object", "properties": {
          "name": {"type": "string", "maxLength": 6},
          "age": {"type": "integer", "minimum": 18, "maximum": 99},
          "color": {"enum": ["red", "green", "blue"]},
          "tags": {"type": "array", "items": {"type": "string", "maxLength": 4}, "maxItems": 2},
          "ok": {"type": ["boolean", "null"]}},
         "required": ["name", "age", "color"]}
        """

    /// An independent check of ``schema``: parse the JSON and look at every member.
    private func satisfiesSchema(_ text: String) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let name = object["name"] as? String, name.count <= 6,
            let age = object["age"] as? Int, (18...99).contains(age), !text.contains("\"age\": -"),
            let color = object["color"] as? String, ["red", "green", "blue"].contains(color)
        else { return false }
        let allowedKeys: Set<String> = ["name", "age", "color", "tags", "ok"]
        guard Set(object.keys).isSubset(of: allowedKeys) else { return false }
        if let tags = object["tags"] {
            guard let tags = tags as? [String], tags.count <= 2, tags.allSatisfy({ $0.count <= 4 }) else { return false }
        }
        if let ok = object["ok"], !(ok is NSNull) {
            guard ["true", "false"].contains(where: { text.contains("\"ok\":\($0)") || text.contains("\"ok\": \($0)") }) else { return false }
        }
        // Members in schema order.
        let order = ["\"name\"", "\"age\"", "\"color\"", "\"tags\"", "\"ok\""].compactMap { text.range(of: $0)?.lowerBound }
        return order == order.sorted()
    }

    @Test func jsonSchemaOutputsSatisfyTheSchema() throws {
        let collector = EventCollector()
        let engine = try engine(collector: collector)
        defer { engine.shutdown() }
        for output in try runVariants(.jsonSchema(Self.schema), maxTokens: 200, on: engine, collector: collector) {
            #expect(output.reason == .stop(tokenID: Self.eos), "\(String(describing: output.reason)): \(text(output))")
            #expect(satisfiesSchema(text(output)), "\(text(output))")
        }
    }

    @Test func jsonObjectOutputsParseOrRunOutOfTokens() throws {
        let collector = EventCollector()
        let engine = try engine(collector: collector)
        defer { engine.shutdown() }
        for output in try runVariants(.jsonObject, maxTokens: 48, on: engine, collector: collector) {
            let text = text(output)
            #expect(text.hasPrefix("{"))
            if output.reason == .length { continue }
            #expect(output.reason == .stop(tokenID: Self.eos))
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: Any], "\(text)")
        }
    }

    @Test func maxTokensCutsAConstrainedOutputWithLength() throws {
        let collector = EventCollector()
        let engine = try engine(collector: collector)
        defer { engine.shutdown() }
        for output in try runVariants(.jsonSchema(Self.schema), maxTokens: 4, on: engine, collector: collector) {
            #expect(output.reason == .length)
            #expect(output.tokenIDs.count == 4)
            #expect(text(output).hasPrefix("{"))
        }
    }

    @Test func withoutEndOfSequenceACompleteMatchStops() throws {
        let collector = EventCollector()
        let engine = try engine(collector: collector)
        defer { engine.shutdown() }
        let params = SamplingParams(maxTokens: 30, temperature: 1, seed: 7, ignoreEOS: true, constraint: .regex("(ab|cd)e"))
        let output = try EngineHarness.run(
            [EngineRequest(id: 1, promptTokenIDs: Self.prompt, params: params)], on: engine, collector: collector)[0]
        #expect(["abe", "cde"].contains(text(output)))
        #expect(output.tokenIDs.last != Self.eos)
        #expect(output.reason == .stop(tokenID: output.tokenIDs.last!))
    }

    @Test func logprobsCoverOnlyTokensTheConstraintAllows() throws {
        let collector = EventCollector()
        let engine = try engine(collector: collector)
        defer { engine.shutdown() }
        let params = SamplingParams(maxTokens: 6, temperature: 1, seed: 3, ignoreEOS: true, logprobs: 5, constraint: .regex("[0-9]{6}"))
        let output = try EngineHarness.run(
            [EngineRequest(id: 1, promptTokenIDs: Self.prompt, params: params)], on: engine, collector: collector)[0]
        #expect(output.logprobs.count == output.tokenIDs.count)
        for entry in output.logprobs {
            var total = 0.0
            for top in entry.top where top.logprob.isFinite {
                #expect(Self.vocabulary.bytes(of: Int(top.tokenID)).allSatisfy { (0x30...0x39).contains($0) })
                total += exp(Double(top.logprob))
            }
            #expect(total <= 1.0001)
        }
    }

    @Test func constraintStateSurvivesRetraction() throws {
        let collector = EventCollector()
        // 24 pages of 4 tokens for 12 requests of 8 + 30 to 60 tokens: requests are retracted.
        let engine = try engine(pages: 24, collector: collector)
        defer { engine.shutdown() }
        let regex = #"[a-z]{8,12}( [a-z]{4,8}){6,8}\."#
        let requests = (0..<12).map { index in
            EngineRequest(
                id: RequestID(UInt64(index)), promptTokenIDs: Self.prompt,
                params: SamplingParams(maxTokens: 60, temperature: 1, seed: UInt64(index), constraint: .regex(regex)))
        }
        let outputs = try EngineHarness.run(requests, on: engine, collector: collector)
        for output in outputs {
            #expect(output.violations.isEmpty)
            if output.reason == .length { continue }
            #expect(try StructuredOutputs.matches(.regex(regex), text(output)), "\(text(output))")
        }
        #expect(engine.load.retractionTotal > 0)
    }

    @Test func unusableConstraintsFinishWithAnErrorNamingWhy() throws {
        let collector = EventCollector()
        let engine = try engine(collector: collector)
        defer { engine.shutdown() }
        let bare = EventCollector()
        let noVocabulary = try self.engine(vocabulary: nil, collector: bare)
        defer { noVocabulary.shutdown() }
        let bad = SamplingParams(maxTokens: 4, constraint: .jsonSchema(#"{"type": "object", "patternProperties": {}}"#))
        let output = try EngineHarness.run([EngineRequest(id: 1, promptTokenIDs: Self.prompt, params: bad)], on: engine, collector: collector)[0]
        #expect(output.reason?.errorMessage?.contains("unsupported JSON Schema keyword 'patternProperties' at #") == true)
        let plain = SamplingParams(maxTokens: 4, constraint: .regex("a+"))
        let refused = try EngineHarness.run([EngineRequest(id: 2, promptTokenIDs: Self.prompt, params: plain)], on: noVocabulary, collector: bare)[0]
        #expect(refused.reason?.errorMessage?.contains("tokenizer.json") == true)
        #expect(refused.tokenIDs.isEmpty)
    }

    @Test func logitBiasForcesAndBansTokens() throws {
        let collector = EventCollector()
        let engine = try engine(collector: collector)
        defer { engine.shutdown() }
        let greedy = SamplingParams(maxTokens: 6, temperature: 0, ignoreEOS: true)
        let plain = try EngineHarness.run([EngineRequest(id: 1, promptTokenIDs: Self.prompt, params: greedy)], on: engine, collector: collector)[0]
        var forced = greedy
        forced.logitBias = [333: 100]
        forced.temperature = 1
        forced.seed = 5
        var banned = greedy
        banned.logitBias = [plain.tokenIDs[0]: -100]
        let outputs = try EngineHarness.run(
            [EngineRequest(id: 2, promptTokenIDs: Self.prompt, params: forced), EngineRequest(id: 3, promptTokenIDs: Self.prompt, params: banned)],
            on: engine, collector: collector)
        #expect(outputs[0].tokenIDs == [Int32](repeating: 333, count: 6))
        #expect(outputs[1].tokenIDs.first != plain.tokenIDs[0])
        #expect(!outputs[1].tokenIDs.contains(plain.tokenIDs[0]))
    }

    @Test func minTokensDelaysEndOfSequenceAndStopTokens() throws {
        let collector = EventCollector()
        let engine = try engine(collector: collector)
        defer { engine.shutdown() }
        // End-of-sequence pushed to the top by a bias: it ends the request as soon as min_tokens allows.
        let eager = SamplingParams(maxTokens: 20, temperature: 0, logitBias: [Self.eos: 100], minTokens: 5)
        var immediate = eager
        immediate.minTokens = 0
        // A stop token the greedy output reaches early, delayed past it.
        let greedy = SamplingParams(maxTokens: 12, temperature: 0, ignoreEOS: true)
        let plain = try EngineHarness.run([EngineRequest(id: 1, promptTokenIDs: Self.prompt, params: greedy)], on: engine, collector: collector)[0]
        let stop = plain.tokenIDs[1]
        var stopping = greedy
        stopping.stopTokenIDs = [stop]
        var delayed = stopping
        delayed.minTokens = 8
        let outputs = try EngineHarness.run(
            [
                EngineRequest(id: 2, promptTokenIDs: Self.prompt, params: eager),
                EngineRequest(id: 3, promptTokenIDs: Self.prompt, params: immediate),
                EngineRequest(id: 4, promptTokenIDs: Self.prompt, params: stopping),
                EngineRequest(id: 5, promptTokenIDs: Self.prompt, params: delayed),
            ], on: engine, collector: collector)
        #expect(outputs[0].tokenIDs.count == 6)
        #expect(outputs[0].tokenIDs.last == Self.eos && !outputs[0].tokenIDs.dropLast().contains(Self.eos))
        #expect(outputs[0].reason == .stop(tokenID: Self.eos))
        #expect(outputs[1].tokenIDs == [Self.eos])
        #expect(outputs[2].tokenIDs.count <= 2 && outputs[2].reason == .stop(tokenID: stop))
        #expect(outputs[3].tokenIDs.count >= 9)
        #expect(!outputs[3].tokenIDs.prefix(8).contains(stop))
    }
}

extension StructuredOutputEngineTests {
    @Test func resumedOutputContinuesTheConstraint() throws {
        let collector = EventCollector()
        let engine = try engine(collector: collector)
        defer { engine.shutdown() }
        let regex = #"\[(10|20|30)(,(10|20|30)){3}\]"#
        let first = SamplingParams(maxTokens: 3, temperature: 1, seed: 11, constraint: .regex(regex))
        let start = try EngineHarness.run([EngineRequest(id: 1, promptTokenIDs: Self.prompt, params: first)], on: engine, collector: collector)[0]
        #expect(start.reason == .length)
        // The rest on "another worker": prompt + output re-prefilled, the output marked as resumed.
        let rest = SamplingParams(maxTokens: 40, temperature: 1, seed: 12, constraint: .regex(regex))
        let resumed = EngineRequest(id: 2, promptTokenIDs: Self.prompt + start.tokenIDs, params: rest, resumedOutputCount: start.tokenIDs.count)
        let end = try EngineHarness.run([resumed], on: engine, collector: collector)[0]
        var whole = start
        whole.tokenIDs += end.tokenIDs
        #expect(end.reason == .stop(tokenID: Self.eos))
        #expect(try StructuredOutputs.matches(.regex(regex), text(whole)), "\(text(whole))")
        // Output that left the language cannot be resumed.
        let wrong = EngineRequest(id: 3, promptTokenIDs: Self.prompt + [Int32(Self.vocabulary.size - 100)], params: rest, resumedOutputCount: 1)
        let refused = try EngineHarness.run([wrong], on: engine, collector: collector)[0]
        #expect(refused.reason?.errorMessage?.contains("resumed output") == true)
    }
}
