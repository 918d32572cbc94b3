// RadixServe: token counts of one request.

/// A response's `usage`: token counts, with `prompt_tokens_details.cached_tokens`.
///
/// Decoding is lenient, for servers that send less than RadixServe: `completion_tokens` defaults
/// to 0, `total_tokens` to the sum, and ``cachedTokens`` is nil when `prompt_tokens_details` or
/// its `cached_tokens` is missing or null. Encoding writes `prompt_tokens_details` when
/// ``cachedTokens`` is known.
public struct Usage: Codable, Sendable, Hashable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    /// Prompt tokens served from the prefix cache; nil when the server did not report it.
    public var cachedTokens: Int?

    /// Creates counts; `totalTokens` defaults to prompt plus completion.
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
