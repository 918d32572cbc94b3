import Foundation

/// Supported decoder architectures (all Llama-shaped).
public enum Architecture: String, Sendable, Hashable, CaseIterable {
    case llama
    case mistral
    case qwen2
    case qwen3

    /// Whether q/k/v projections carry a bias regardless of `attention_bias` (Qwen2).
    var alwaysHasQKVBias: Bool { self == .qwen2 }
    /// Whether attention applies RMSNorm to each query and key head (Qwen3).
    public var hasQKNorm: Bool { self == .qwen3 }
}

/// The fields of a Hugging Face `config.json` that define a Llama-family model.
public struct ModelConfig: Sendable, Hashable {
    public var architecture: Architecture
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var vocabularySize: Int
    public var rmsNormEpsilon: Float
    public var rope: RopeParameters
    public var maxPositionEmbeddings: Int
    public var tieWordEmbeddings: Bool
    public var hasQKVBias: Bool
    public var bosTokenID: Int?
    public var eosTokenIDs: [Int]

    /// Attention's `1/sqrt(headDim)`.
    public var attentionScale: Float { 1 / Float(headDim).squareRoot() }
    /// Width of the fused q|k|v projection.
    public var qkvWidth: Int { (headCount + 2 * kvHeadCount) * headDim }

    /// Reads and validates `config.json` in `directory`.
    public static func load(directory: URL) throws -> ModelConfig {
        let url = directory.appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ModelError(.missingFile, "\(url.path): config.json not found")
        }
        return try parse(data, path: url.path)
    }

    /// Parses config.json bytes; `path` names the file in errors.
    public static func parse(_ data: Data, path: String) throws -> ModelConfig {
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelError(.invalidConfig, "\(path): not a JSON object")
        }
        let fields = ConfigFields(json: json, path: path)
        let modelType = try fields.string("model_type")
        guard let architecture = Architecture(rawValue: modelType) else {
            throw ModelError(.unsupportedArchitecture,
                "\(path): model_type '\(modelType)' is not supported (supported: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if let act = json["hidden_act"] as? String, act != "silu" {
            throw ModelError(.invalidConfig, "\(path): hidden_act '\(act)' is not supported (only silu)")
        }
        let hidden = try fields.positiveInt("hidden_size")
        let heads = try fields.positiveInt("num_attention_heads")
        let kvHeads = try fields.optionalInt("num_key_value_heads") ?? heads
        let headDim = try fields.optionalInt("head_dim") ?? hidden / heads
        guard kvHeads > 0, heads % kvHeads == 0 else {
            throw ModelError(.invalidConfig, "\(path): num_attention_heads \(heads) is not a multiple of num_key_value_heads \(kvHeads)")
        }
        guard headDim > 0, headDim % 2 == 0 else {
            throw ModelError(.invalidConfig, "\(path): head_dim \(headDim) must be positive and even")
        }
        if json["use_sliding_window"] as? Bool == true {
            throw ModelError(.invalidConfig, "\(path): use_sliding_window true is not supported")
        }
        var maxPositions = try fields.optionalInt("max_position_embeddings") ?? 2048
        if architecture == .mistral, let window = try fields.optionalInt("sliding_window"), window < maxPositions {
            // Within the window, sliding-window attention equals full attention; cap the context there.
            maxPositions = window
        }
        return ModelConfig(
            architecture: architecture,
            hiddenSize: hidden,
            intermediateSize: try fields.positiveInt("intermediate_size"),
            layerCount: try fields.positiveInt("num_hidden_layers"),
            headCount: heads,
            kvHeadCount: kvHeads,
            headDim: headDim,
            vocabularySize: try fields.positiveInt("vocab_size"),
            rmsNormEpsilon: Float(try fields.optionalDouble("rms_norm_eps") ?? 1e-6),
            rope: try RopeParameters(json: json, headDim: headDim, path: path),
            maxPositionEmbeddings: maxPositions,
            tieWordEmbeddings: json["tie_word_embeddings"] as? Bool ?? false,
            hasQKVBias: architecture.alwaysHasQKVBias || (json["attention_bias"] as? Bool ?? false),
            bosTokenID: try fields.optionalInt("bos_token_id"),
            eosTokenIDs: try fields.intOrList("eos_token_id"))
    }
}

/// Typed access to config.json fields with errors that name the file and key.
struct ConfigFields {
    let json: [String: Any]
    let path: String

    func string(_ key: String) throws -> String {
        guard let value = json[key] as? String else { throw missing(key, "a string") }
        return value
    }

    func positiveInt(_ key: String) throws -> Int {
        guard let value = try optionalInt(key) else { throw missing(key, "a positive integer") }
        guard value > 0 else { throw ModelError(.invalidConfig, "\(path): \(key) must be positive, got \(value)") }
        return value
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard let raw = json[key], !(raw is NSNull) else { return nil }
        guard let number = raw as? NSNumber, number.doubleValue == number.doubleValue.rounded() else {
            throw ModelError(.invalidConfig, "\(path): \(key) must be an integer, got \(raw)")
        }
        return number.intValue
    }

    func optionalDouble(_ key: String) throws -> Double? {
        guard let raw = json[key], !(raw is NSNull) else { return nil }
        guard let number = raw as? NSNumber else { throw ModelError(.invalidConfig, "\(path): \(key) must be a number, got \(raw)") }
        return number.doubleValue
    }

    func intOrList(_ key: String) throws -> [Int] {
        if let list = json[key] as? [NSNumber] { return list.map(\.intValue) }
        return try optionalInt(key).map { [$0] } ?? []
    }

    private func missing(_ key: String, _ kind: String) -> ModelError {
        ModelError(.invalidConfig, "\(path): '\(key)' is missing or not \(kind)")
    }
}
