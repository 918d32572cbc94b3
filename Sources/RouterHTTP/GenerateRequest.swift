// RadixServe: request bodies of the router's own endpoints (the OpenAI ones are in ServingTypes).

import ServingTypes

/// `POST /generate` (SGLang's native API): `text` or `input_ids`, `sampling_params`, `stream`.
package struct GenerateRequest: Decodable, Sendable {
    package var text: String?
    package var inputIDs: [Int]?
    package var sampling: SamplingFields?
    package var stream: Bool
    package var returnLogprob: Bool
    package var topLogprobsNumber: Int?

    enum CodingKeys: String, CodingKey {
        case text, stream
        case inputIDs = "input_ids"
        case sampling = "sampling_params"
        case returnLogprob = "return_logprob"
        case topLogprobsNumber = "top_logprobs_num"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        text = try container.decodeIfPresent(String.self, forKey: .text)
        inputIDs = try container.decodeIfPresent([Int].self, forKey: .inputIDs)
        sampling = try container.decodeIfPresent(SamplingFields.self, forKey: .sampling)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        returnLogprob = try container.decodeIfPresent(Bool.self, forKey: .returnLogprob) ?? false
        topLogprobsNumber = try container.decodeIfPresent(Int.self, forKey: .topLogprobsNumber)
    }
}

/// `POST /workers`.
package struct AddWorkerRequest: Decodable, Sendable {
    package var endpoint: String
}
