// RadixServe: the cost of output constraints in the engine (`radixserve bench --workload structured`).

import Engine
import Foundation
import ServingTypes
import StructuredOutput
import Tokenizers

extension EngineBench {
    /// The three JSON Schemas of the structured workload: flat, nested with arrays, and an
    /// `anyOf` of bounded numbers and enums. Request `i` is constrained by schema `i % 3`.
    public static let structuredSchemas: [String] = [
        #"{"type": "object", "properties": {"name": {"type": "string", "maxLength": 24}, "age": {"type": "integer", "minimum": 0, "maximum": 120}, "email": {"type": ["string", "null"]}, "active": {"type": "boolean"}}, "required": ["name", "age", "active"]}"#,
        #"{"type": "object", "properties": {"items": {"type": "array", "maxItems": 8, "items": {"type": "object", "properties": {"id": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 4}, "price": {"type": "number", "minimum": 0, "maximum": 10000}}, "required": ["id", "price"]}}, "total": {"type": "number"}}, "required": ["items"]}"#,
        ##"{"$defs": {"unit": {"enum": ["celsius", "fahrenheit", "kelvin"]}}, "type": "object", "properties": {"city": {"type": "string", "pattern": "^[A-Z][a-z]{2,15}$"}, "reading": {"anyOf": [{"type": "integer", "minimum": -90, "maximum": 60}, {"type": "null"}]}, "unit": {"$ref": "#/$defs/unit"}, "history": {"type": "array", "items": {"type": "number"}, "maxItems": 6}}, "required": ["city", "reading", "unit"]}"##,
    ]

    /// Compile time of each of ``structuredSchemas`` over `vocabulary`: the schema to an
    /// automaton, plus the first (initial-state) token mask, in milliseconds.
    public static func schemaCompileMilliseconds(vocabulary: TokenVocabulary) throws -> [Double] {
        try structuredSchemas.map { schema in
            let start = ContinuousClock.now
            let constraint = try StructuredOutputs.compile(.jsonSchema(schema), vocabulary: vocabulary)
            _ = constraint.allowedTokens(constraint.initialState)
            return (ContinuousClock.now - start).seconds * 1000
        }
    }

    /// The structured workload: random prompts decoded greedily, then sampled at temperature 1
    /// (top-k 50), each without and with a JSON Schema per request, alternating A B A B at each
    /// concurrency so drift in the machine's speed hits both alike. Reports the vocabulary's build time and each schema's
    /// compile time first, then every run (sampling time per token holds the masks' cost).
    public func measureStructured(
        modelDirectory: URL, prompts: [[Int32]], outputTokens: Int, concurrencyLevels: [Int], write: (String) -> Void
    ) throws {
        let vocabularyStart = ContinuousClock.now
        let vocabulary = TokenVocabulary(tokenizer: try AutoTokenizer.load(directory: modelDirectory))
        let vocabularySeconds = (ContinuousClock.now - vocabularyStart).seconds
        let compile = try Self.schemaCompileMilliseconds(vocabulary: vocabulary)
        write(String(format: "vocabulary of %d tokens built in %.1f ms; schema compile + first mask: %@ ms\n",
            vocabulary.size, vocabularySeconds * 1000, compile.map { String(format: "%.1f", $0) }.joined(separator: ", ")))
        for topK in [nil, sampledTopK ?? 50] {
            var plain = self
            plain.config.vocabulary = vocabulary
            plain.sampledTopK = topK
            var constrained = plain
            constrained.constraint = { .jsonSchema(Self.structuredSchemas[$0 % Self.structuredSchemas.count]) }
            for level in concurrencyLevels {
                for round in 1...2 {
                    for (label, bench) in [("A none", plain), ("B json-schema", constrained)] {
                        let outcome = try bench.measure(
                            workload: "structured", prompts: prompts, outputTokens: outputTokens, concurrency: level)
                        let tokens = outcome.outputTokensPerSecond * outcome.seconds
                        write(String(format: "round %d %@: %.1f µs sampling/token, %.3f ms sampling/step, %.0f tokens/request; ",
                            round, label, outcome.samplingSeconds * 1e6 / max(1, tokens),
                            outcome.samplingSeconds * 1000 / Double(max(1, outcome.steps)), tokens / Double(prompts.count))
                            + outcome.summary)
                    }
                }
            }
        }
    }
}
