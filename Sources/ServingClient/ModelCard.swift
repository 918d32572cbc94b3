/// One entry of `GET /v1/models`.
public struct ModelCard: Sendable, Equatable, Codable {
    /// The name to send as `model`.
    public var id: String
    public var ownedBy: String?
    /// Longest prompt + output the model accepts, in tokens.
    public var maxModelLength: Int?

    public init(id: String, ownedBy: String? = nil, maxModelLength: Int? = nil) {
        self.id = id
        self.ownedBy = ownedBy
        self.maxModelLength = maxModelLength
    }

    enum CodingKeys: String, CodingKey {
        case id
        case ownedBy = "owned_by"
        case maxModelLength = "max_model_len"
    }
}

/// The `GET /v1/models` body.
struct ModelList: Decodable {
    var data: [ModelCard]
}
