// RadixServe: the router's use of the shared request fields.

import PageHashing
import ServingTypes

extension SamplingFields {
    /// The validated engine parameters, with the cache namespace of ``cacheSalt``.
    /// - Throws: ``APIError`` 400 naming the parameter as the client sent it.
    func params(defaultMaxTokens: Int, logprobs: Int?, logprobsName: String = "logprobs") throws(APIError) -> SamplingParams {
        do {
            return try samplingParams(
                defaultMaxTokens: defaultMaxTokens, logprobs: logprobs, logprobsName: logprobsName,
                namespace: cacheSalt.map(Self.namespace(salt:)) ?? 0)
        } catch {
            throw APIError.invalid(error.description, param: error.name)
        }
    }

    /// The cache namespace of a salt: never 0, the namespace of unsalted requests.
    static func namespace(salt: String) -> UInt64 { XXH64.hash(Array(salt.utf8), seed: 0x5A17) | 1 }
}

extension Usage {
    /// RadixServe's usage: every count known, cached tokens included.
    init(prompt: Int, completion: Int, cached: Int) {
        self.init(promptTokens: prompt, completionTokens: completion, cachedTokens: cached)
    }
}
