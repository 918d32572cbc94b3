// RadixServe: the body of GET /v1/models.

/// The `GET /v1/models` body: `{"object": "list", "data": [...]}`.
public struct ModelList: Codable, Sendable, Hashable {
    public var data: [ModelCard]

    public init(data: [ModelCard]) {
        self.data = data
    }

    enum CodingKeys: String, CodingKey { case object, data }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        data = try container.decode([ModelCard].self, forKey: .data)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("list", forKey: .object)
        try container.encode(data, forKey: .data)
    }
}

/// One entry of `GET /v1/models` (`"object": "model"`). Only ``id`` is required when decoding.
public struct ModelCard: Codable, Sendable, Hashable {
    /// The name to send as `model`.
    public var id: String
    /// Unix time the server started serving it.
    public var created: Int?
    public var ownedBy: String?
    /// Longest prompt + output the model accepts, in tokens (`max_model_len`).
    public var maxModelLength: Int?
    /// Token ids in prompts must be below this (`vocab_size`).
    public var vocabularySize: Int?
    /// Whether every worker serving it runs in deterministic mode (`deterministic`, a RadixServe
    /// extension): a request's output does not depend on batching, caching or chunking.
    public var isDeterministic: Bool?

    public init(
        id: String, created: Int? = nil, ownedBy: String? = nil, maxModelLength: Int? = nil, vocabularySize: Int? = nil,
        isDeterministic: Bool? = nil
    ) {
        self.id = id
        self.created = created
        self.ownedBy = ownedBy
        self.maxModelLength = maxModelLength
        self.vocabularySize = vocabularySize
        self.isDeterministic = isDeterministic
    }

    enum CodingKeys: String, CodingKey {
        case id, object, created
        case ownedBy = "owned_by"
        case maxModelLength = "max_model_len"
        case vocabularySize = "vocab_size"
        case isDeterministic = "deterministic"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        created = try container.decodeIfPresent(Int.self, forKey: .created)
        ownedBy = try container.decodeIfPresent(String.self, forKey: .ownedBy)
        maxModelLength = try container.decodeIfPresent(Int.self, forKey: .maxModelLength)
        vocabularySize = try container.decodeIfPresent(Int.self, forKey: .vocabularySize)
        isDeterministic = try container.decodeIfPresent(Bool.self, forKey: .isDeterministic)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode("model", forKey: .object)
        try container.encodeIfPresent(created, forKey: .created)
        try container.encodeIfPresent(ownedBy, forKey: .ownedBy)
        try container.encodeIfPresent(maxModelLength, forKey: .maxModelLength)
        try container.encodeIfPresent(vocabularySize, forKey: .vocabularySize)
        try container.encodeIfPresent(isDeterministic, forKey: .isDeterministic)
    }
}
