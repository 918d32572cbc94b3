// RadixServe: the limits one API key is held to, and the router-wide admission bounds.

/// What one API key may use at once: concurrent requests and tokens per minute. Nil: unlimited.
package struct KeyLimits: Hashable, Sendable {
    /// Requests admitted or queued for this key at one time.
    package var maxConcurrentRequests: Int?
    /// Size of the key's token bucket, refilled evenly over a minute. A request costs its prompt
    /// tokens plus its `max_tokens`, charged when it is admitted or queued.
    package var tokensPerMinute: Int?

    package init(maxConcurrentRequests: Int? = nil, tokensPerMinute: Int? = nil) {
        self.maxConcurrentRequests = maxConcurrentRequests
        self.tokensPerMinute = tokensPerMinute
    }

    /// No limit at all.
    package static let unlimited = KeyLimits()

    /// `override`'s limits where it sets one, else these.
    package func overridden(by override: KeyLimits) -> KeyLimits {
        KeyLimits(
            maxConcurrentRequests: override.maxConcurrentRequests ?? maxConcurrentRequests,
            tokensPerMinute: override.tokensPerMinute ?? tokensPerMinute)
    }
}

/// The router-wide bounds of ``Admission``.
package struct AdmissionBounds: Hashable, Sendable {
    /// Requests served at once by the whole router; the rest wait in the queue.
    package var maxRunningRequests: Int
    /// Requests that may wait; beyond it a request is refused with 429.
    package var maxQueuedRequests: Int
    /// Longest wait in the queue before the request is refused with 429.
    package var maxQueueWait: Duration

    package init(maxRunningRequests: Int = 4096, maxQueuedRequests: Int = 1024, maxQueueWait: Duration = .seconds(60)) {
        self.maxRunningRequests = maxRunningRequests
        self.maxQueuedRequests = maxQueuedRequests
        self.maxQueueWait = maxQueueWait
    }
}
