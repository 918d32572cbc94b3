// RadixServe: a serving benchmark set up against a router's served model (`radixserve bench --url`).

import ServingClient
import ServingTypes

extension ServingBenchmark {
    /// A benchmark of the router behind `client` with `configuration`, whose model, when nil,
    /// becomes the first one the router lists (`GET /v1/models`; still nil if it lists none). The
    /// preconditions of ``init(client:configuration:)`` apply.
    /// - Throws: ``ServingClientError`` when the models cannot be listed;
    ///   ``BenchmarkContextOverflow`` when the workload's longest request (prompt and output) is
    ///   longer than the model's `max_model_len`.
    public init(router client: RouterClient, configuration: Configuration) throws {
        let models = try client.models()
        var configuration = configuration
        configuration.model = configuration.model ?? models.first?.id
        let longest = configuration.workload.longestSequence(outputTokens: configuration.outputTokens)
        if let limit = models.first(where: { $0.id == configuration.model })?.maxModelLength, longest > limit {
            throw BenchmarkContextOverflow(model: configuration.model, neededTokens: longest, maxModelLength: limit)
        }
        self.init(client: client, configuration: configuration)
    }
}

/// A serving benchmark whose longest request does not fit the served model's context.
public struct BenchmarkContextOverflow: Error, Hashable, Sendable, CustomStringConvertible {
    /// The model requested; nil when the router listed none by that name.
    public var model: String?
    /// Prompt and output tokens of the longest request.
    public var neededTokens: Int
    /// The model's `max_model_len`.
    public var maxModelLength: Int

    public init(model: String?, neededTokens: Int, maxModelLength: Int) {
        self.model = model
        self.neededTokens = neededTokens
        self.maxModelLength = maxModelLength
    }

    /// What the user reads, with the flags that shorten the requests.
    public var description: String {
        "the longest request needs \(neededTokens) tokens but \(model ?? "the model") accepts \(maxModelLength); "
            + "lower --system-tokens, --question-tokens, --turns or --output-tokens"
    }
}
