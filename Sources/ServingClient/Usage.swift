/// Token counts of one request, from the response's `usage` object.
public struct Usage: Sendable, Equatable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    /// Prompt tokens served from the prefix cache (`prompt_tokens_details.cached_tokens`); nil
    /// when the server did not report it.
    public var cachedTokens: Int?

    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int? = nil, cachedTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = totalTokens ?? promptTokens + completionTokens
        self.cachedTokens = cachedTokens
    }

    private enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case promptTokensDetails = "prompt_tokens_details"
    }

    private enum DetailKeys: String, CodingKey {
        case cachedTokens = "cached_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        promptTokens = try container.decode(Int.self, forKey: .promptTokens)
        completionTokens = try container.decodeIfPresent(Int.self, forKey: .completionTokens) ?? 0
        totalTokens = try container.decodeIfPresent(Int.self, forKey: .totalTokens) ?? promptTokens + completionTokens
        if (try? container.decodeNil(forKey: .promptTokensDetails)) == false {
            let details = try container.nestedContainer(keyedBy: DetailKeys.self, forKey: .promptTokensDetails)
            cachedTokens = try details.decodeIfPresent(Int.self, forKey: .cachedTokens)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(promptTokens, forKey: .promptTokens)
        try container.encode(completionTokens, forKey: .completionTokens)
        try container.encode(totalTokens, forKey: .totalTokens)
        if let cachedTokens {
            var details = container.nestedContainer(keyedBy: DetailKeys.self, forKey: .promptTokensDetails)
            try details.encode(cachedTokens, forKey: .cachedTokens)
        }
    }
}
