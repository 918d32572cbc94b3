// RadixServe: request bodies of the router's own endpoints, beside the OpenAI ones.

/// `POST /generate` (SGLang's native API): `text` or `input_ids`, `sampling_params`, `stream`,
/// `return_logprob`, `top_logprobs_num` and `priority`.
public struct GenerateRequest: Decodable, Sendable {
    public var text: String?
    public var inputIDs: [Int]?
    public var sampling: SamplingFields?
    public var stream: Bool
    public var returnLogprob: Bool
    public var topLogprobsNumber: Int?
    /// Admission priority in the router's queue, as for ``CompletionRequest/priority``.
    public var priority: Int?

    enum CodingKeys: String, CodingKey {
        case text, stream
        case inputIDs = "input_ids"
        case sampling = "sampling_params"
        case returnLogprob = "return_logprob"
        case topLogprobsNumber = "top_logprobs_num"
        case priority
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        text = try container.decodeIfPresent(String.self, forKey: .text)
        inputIDs = try container.decodeIfPresent([Int].self, forKey: .inputIDs)
        sampling = try container.decodeIfPresent(SamplingFields.self, forKey: .sampling)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        returnLogprob = try container.decodeIfPresent(Bool.self, forKey: .returnLogprob) ?? false
        topLogprobsNumber = try container.decodeIfPresent(Int.self, forKey: .topLogprobsNumber)
        priority = try container.decodeIfPresent(Int.self, forKey: .priority)
    }
}

/// `POST /workers`: the endpoint of a worker that listens for the router (`worker --listen`).
public struct AddWorkerRequest: Decodable, Sendable {
    public var endpoint: String
}
