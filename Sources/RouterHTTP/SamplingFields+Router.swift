// RadixServe: the router's use of the shared request fields.

import PageHashing
import ServingTypes
import StructuredOutput

extension SamplingFields {
    /// The validated engine parameters, with the cache namespace of ``cacheSalt`` and the output
    /// constraint of `body` (``OutputFormat``), checked to be in the supported subset.
    /// - Throws: ``APIError`` 400 naming the parameter as the client sent it, or the unsupported
    ///   JSON Schema keyword or regex construct.
    func params(
        defaultMaxTokens: Int, logprobs: Int?, logprobsName: String = "logprobs", body: OutputFormat = OutputFormat()
    ) throws(APIError) -> SamplingParams {
        let params: SamplingParams
        do {
            params = try samplingParams(
                defaultMaxTokens: defaultMaxTokens, logprobs: logprobs, logprobsName: logprobsName,
                namespace: cacheSalt.map(Self.namespace(salt:)) ?? 0, constraint: body.constraint)
        } catch {
            throw APIError.invalid(error.description, param: error.name)
        }
        if let constraint = params.constraint {
            do {
                try StructuredOutputs.validate(constraint)
            } catch {
                throw APIError.invalid(error.message, param: body.constraintName ?? (regex != nil ? "regex" : "json_schema"))
            }
        }
        return params
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
