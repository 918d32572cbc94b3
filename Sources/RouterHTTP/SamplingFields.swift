// RadixServe: the sampling fields shared by /v1/completions, /v1/chat/completions and /generate.

import HTTPTypes
import PageHashing
import ServingTypes

/// Sampling and stopping fields as clients send them (OpenAI names plus the common
/// extensions `top_k`, `min_p`, `repetition_penalty`, `ignore_eos`, `stop_token_ids`,
/// `cache_salt`). Every field is optional; ``params(defaultMaxTokens:logprobs:)`` applies
/// defaults and validates.
package struct SamplingFields: Decodable, Sendable {
    package var maxTokens: Int?
    package var temperature: Double?
    package var topP: Double?
    package var topK: Int?
    package var minP: Double?
    package var seed: Int64?
    package var frequencyPenalty: Double?
    package var presencePenalty: Double?
    package var repetitionPenalty: Double?
    package var stop: [String]
    package var stopTokenIDs: [Int]
    package var ignoreEOS: Bool
    package var n: Int?
    package var cacheSalt: String?

    enum CodingKeys: String, CodingKey {
        case temperature, seed, stop, n
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case maxNewTokens = "max_new_tokens"
        case topP = "top_p"
        case topK = "top_k"
        case minP = "min_p"
        case frequencyPenalty = "frequency_penalty"
        case presencePenalty = "presence_penalty"
        case repetitionPenalty = "repetition_penalty"
        case stopTokenIDs = "stop_token_ids"
        case ignoreEOS = "ignore_eos"
        case cacheSalt = "cache_salt"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        maxTokens = try container.decodeIfPresent(Int.self, forKey: .maxTokens)
            ?? container.decodeIfPresent(Int.self, forKey: .maxCompletionTokens)
            ?? container.decodeIfPresent(Int.self, forKey: .maxNewTokens)
        temperature = try container.decodeIfPresent(Double.self, forKey: .temperature)
        topP = try container.decodeIfPresent(Double.self, forKey: .topP)
        topK = try container.decodeIfPresent(Int.self, forKey: .topK)
        minP = try container.decodeIfPresent(Double.self, forKey: .minP)
        seed = try container.decodeIfPresent(Int64.self, forKey: .seed)
        frequencyPenalty = try container.decodeIfPresent(Double.self, forKey: .frequencyPenalty)
        presencePenalty = try container.decodeIfPresent(Double.self, forKey: .presencePenalty)
        repetitionPenalty = try container.decodeIfPresent(Double.self, forKey: .repetitionPenalty)
        stop = try container.decodeIfPresent(OneOrMany<String>.self, forKey: .stop)?.values ?? []
        stopTokenIDs = try container.decodeIfPresent([Int].self, forKey: .stopTokenIDs) ?? []
        ignoreEOS = try container.decodeIfPresent(Bool.self, forKey: .ignoreEOS) ?? false
        n = try container.decodeIfPresent(Int.self, forKey: .n)
        cacheSalt = try container.decodeIfPresent(String.self, forKey: .cacheSalt)
    }

    /// Validated wire parameters. `temperature` defaults to 1 (OpenAI's default).
    /// - Throws: ``APIError`` 400 naming the parameter and its allowed range.
    package func params(defaultMaxTokens: Int, logprobs: Int?) throws(APIError) -> SamplingParams {
        if let n, n != 1 { throw APIError.invalid("n must be 1 (got \(n)); send one request per sample", param: "n") }
        if stop.count > 16 { throw APIError.invalid("at most 16 stop strings are allowed (got \(stop.count))", param: "stop") }
        if let bad = stopTokenIDs.first(where: { $0 < 0 || $0 > Int(Int32.max) }) {
            throw APIError.invalid("invalid stop_token_ids entry \(bad): must be a token id", param: "stop_token_ids")
        }
        let sampling = SamplingParams(
            maxTokens: maxTokens ?? defaultMaxTokens, temperature: temperature ?? 1, topK: topK ?? 0, topP: topP ?? 1,
            minP: minP ?? 0, seed: seed.map { UInt64(bitPattern: $0) }, frequencyPenalty: frequencyPenalty ?? 0,
            presencePenalty: presencePenalty ?? 0, repetitionPenalty: repetitionPenalty ?? 1,
            stopTokenIDs: Set(stopTokenIDs.map { Int32($0) }), ignoreEOS: ignoreEOS, logprobs: logprobs,
            namespace: cacheSalt.map(Self.namespace(salt:)) ?? 0)
        do {
            try sampling.validate()
        } catch {
            throw APIError.invalid(error.description, param: error.name)
        }
        return sampling
    }

    /// The cache namespace of a salt: never 0, the namespace of unsalted requests.
    static func namespace(salt: String) -> UInt64 { XXH64.hash(Array(salt.utf8), seed: 0x5A17) | 1 }
}

/// A JSON field that may hold one value or an array of them (`stop`, `prompt`).
package struct OneOrMany<Element: Decodable & Sendable>: Decodable, Sendable {
    package var values: [Element]

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(Element.self) {
            values = [one]
        } else {
            values = try container.decode([Element].self)
        }
    }
}
