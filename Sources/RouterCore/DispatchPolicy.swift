// RadixServe: how the router picks a worker for a request.

/// The dispatch strategies the router offers (`--policy`).
package enum DispatchPolicy: String, CaseIterable, Sendable {
    /// Lowest predicted time to first token, using the prefix index and load (the default).
    case cacheAware = "cache-aware"
    /// Workers in id order, one after another.
    case roundRobin = "round-robin"
    /// Uniformly at random.
    case random
    /// Two distinct workers at random; the less loaded one.
    case powerOfTwo = "power-of-two"
    /// The least loaded worker (ties at random).
    case leastLoad = "least-load"
}

/// One candidate for a decision: its load and how much of the prompt it has cached.
package struct DispatchCandidate: Hashable, Sendable {
    /// Load at decision time.
    package var load: WorkerLoad
    /// Leading prompt pages the worker holds (confirmed or pending).
    package var matchedPages: Int

    /// Creates a candidate.
    package init(load: WorkerLoad, matchedPages: Int) {
        self.load = load
        self.matchedPages = matchedPages
    }
}

/// What a request needs, as far as dispatch is concerned.
package struct DispatchRequest: Hashable, Sendable {
    /// Prompt length in tokens.
    package var promptTokens: Int
    /// Expected generated tokens (`max_tokens` or a hint), for the memory check.
    package var outputTokens: Int
    /// Tokens per KV page.
    package var pageSize: Int

    /// Creates a request description. Precondition: `pageSize >= 1`.
    package init(promptTokens: Int, outputTokens: Int, pageSize: Int) {
        precondition(pageSize >= 1)
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        self.pageSize = pageSize
    }
}
