// RadixServe: what the HTTP layer hands the router core, and what it gets back.

import ServingTypes
import WireProtocol

/// A tokenized, validated generation request.
package struct RoutedRequest: Sendable {
    /// Prompt token ids (the router tokenizes once; workers never re-tokenize).
    package var tokenIDs: [Int32]
    /// Sampling and stopping parameters; `namespace` selects the cache namespace.
    package var params: SamplingParams

    /// Creates a request.
    package init(tokenIDs: [Int32], params: SamplingParams) {
        self.tokenIDs = tokenIDs
        self.params = params
    }
}

/// Progress of one request, in order: tokens (possibly several times), then exactly one finish.
package enum RoutedUpdate: Sendable {
    /// Newly generated tokens, with log-probabilities when asked for (else empty).
    case tokens([Int32], logprobs: [TokenLogprobs])
    /// The request ended.
    case finished(RoutedFinish)
}

/// How a request ended.
package struct RoutedFinish: Sendable, Hashable {
    /// The worker's reason (`error` carries a message for the client).
    package var reason: FinishReason
    /// Prompt tokens of the original request.
    package var promptTokens: Int
    /// Tokens generated in all.
    package var completionTokens: Int
    /// Prompt tokens served from the worker's prefix cache.
    package var cachedTokens: Int
    /// The worker that finished it.
    package var workerID: UInt32
    /// Dispatch attempts it took (1 unless a worker failed).
    package var attempts: Int
}

/// Why the router could not run a request.
package enum RoutedRequestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No worker is registered and routable.
    case noWorkers
    /// The router's in-flight limit is reached.
    case overloaded(limit: Int)
    /// Every attempt failed; the last worker's message.
    case failed(String)
    /// The router is shutting down.
    case shuttingDown

    package var description: String {
        switch self {
        case .noWorkers: "no worker is available to serve the request"
        case .overloaded(let limit): "the router is at its limit of \(limit) requests in flight; retry later"
        case .failed(let message): message
        case .shuttingDown: "the router is shutting down"
        }
    }
}
