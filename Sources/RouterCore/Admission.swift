// RadixServe: per-key admission (concurrency, tokens per minute) and the router's priority queue.

/// Which requests the router serves now, which wait, and which it refuses, per API key.
///
/// - Each key has a concurrency limit (requests running or queued) and a token bucket of
///   `tokensPerMinute` tokens, refilled evenly; a request costs its prompt tokens plus its
///   `max_tokens`, charged when it is admitted or queued and given back if it leaves the queue
///   without running.
/// - At most ``AdmissionBounds/maxRunningRequests`` run at once. The rest wait in a bounded queue.
///   A freed slot goes to the waiter of highest priority; among equal priorities to the one whose
///   key runs the fewest requests, so a burst from one key cannot starve another; then to the
///   earliest. Invariant: the queue is empty unless every slot is taken.
///
/// Pure state: callers pass `now` and resume the waiters whose tickets come back.
package struct Admission: Sendable {
    /// Names one request from ``request(_:key:cost:priority:now:)`` to ``finish(_:)``.
    package typealias Ticket = UInt64

    /// Why a request was not admitted.
    package enum Refusal: Hashable, Sendable {
        /// The key already has `limit` requests running or queued.
        case concurrency(limit: Int)
        /// The key's bucket holds `available` tokens, fewer than the `needed`; it refills in `retryAfter` seconds.
        case tokenRate(needed: Int, available: Int, limit: Int, retryAfter: Double)
        /// The request alone costs more than the key may use in a minute: it can never be admitted.
        case tooLarge(cost: Int, limit: Int)
        /// The router's queue holds `limit` requests already.
        case queueFull(limit: Int)
        /// The request waited the longest wait allowed.
        case queueTimeout(waited: Duration)

        /// The label of `radixserve_router_key_rejected_total{reason=…}`.
        package var reason: String {
            switch self {
            case .concurrency: "concurrency"
            case .tokenRate: "tokens_per_minute"
            case .tooLarge: "too_large"
            case .queueFull: "queue_full"
            case .queueTimeout: "queue_timeout"
            }
        }

        /// Seconds a client should wait before trying again (`Retry-After`); nil when retrying cannot help.
        package var retryAfterSeconds: Int? {
            switch self {
            case .concurrency, .queueFull, .queueTimeout: 1
            case .tokenRate(_, _, _, let seconds): max(1, Int(seconds.rounded(.up)))
            case .tooLarge: nil
            }
        }
    }

    /// What became of a request.
    package enum Verdict: Hashable, Sendable {
        case admitted
        /// Waiting; it is admitted when ``finish(_:)`` returns its ticket.
        case queued
        case refused(Refusal)
    }

    /// One key's figures, for metrics.
    package struct KeyFigures: Hashable, Sendable {
        package var limits: KeyLimits
        package var running = 0
        package var queued = 0
        package var admitted: UInt64 = 0
        package var refused: [String: UInt64] = [:]
        package var tokensCharged: UInt64 = 0
        /// Tokens in the bucket now (nil without a token limit).
        package var tokensAvailable: Double?
    }

    private struct KeyState {
        var figures: KeyFigures
        var tokens: Double
        var refilledAt: RouterInstant
    }

    private struct Waiter {
        var ticket: Ticket
        var key: String
        var priority: Int
        var cost: Int
        var since: RouterInstant
    }

    package let bounds: AdmissionBounds
    /// Limits of a key not named in `perKey`.
    package let defaults: KeyLimits
    private let perKey: [String: KeyLimits]
    private var keys: [String: KeyState] = [:]
    private var waiting: [Waiter] = []
    private var running: [Ticket: String] = [:]

    /// - Parameters:
    ///   - perKey: limits of named keys, over `defaults` where they set one.
    ///   - knownKeys: keys whose figures exist (zero) before their first request.
    package init(
        bounds: AdmissionBounds, defaults: KeyLimits = .unlimited, perKey: [String: KeyLimits] = [:], knownKeys: [String] = [],
        now: RouterInstant
    ) {
        self.bounds = bounds
        self.defaults = defaults
        self.perKey = perKey
        for key in knownKeys { _ = state(of: key, now: now) }
    }

    /// Requests running now, and waiting.
    package var runningCount: Int { running.count }
    package var queuedCount: Int { waiting.count }

    /// The limits `key` is held to.
    package func limits(of key: String) -> KeyLimits { perKey[key].map(defaults.overridden(by:)) ?? defaults }

    /// Admits, queues or refuses request `ticket` of `key` costing `cost` tokens.
    package mutating func request(_ ticket: Ticket, key: String, cost: Int, priority: Int, now: RouterInstant) -> Verdict {
        var key = (name: key, state: state(of: key, now: now))
        defer { keys[key.name] = key.state }
        let limits = key.state.figures.limits
        if let limit = limits.maxConcurrentRequests, key.state.figures.running + key.state.figures.queued >= limit {
            return refuse(.concurrency(limit: limit), state: &key.state)
        }
        if let limit = limits.tokensPerMinute {
            if cost > limit { return refuse(.tooLarge(cost: cost, limit: limit), state: &key.state) }
            if key.state.tokens < Double(cost) {
                let perSecond = Double(limit) / 60
                let retryAfter = (Double(cost) - key.state.tokens) / perSecond
                return refuse(
                    .tokenRate(needed: cost, available: Int(key.state.tokens), limit: limit, retryAfter: retryAfter),
                    state: &key.state)
            }
        }
        if running.count >= bounds.maxRunningRequests {
            guard waiting.count < bounds.maxQueuedRequests else {
                return refuse(.queueFull(limit: bounds.maxQueuedRequests), state: &key.state)
            }
            charge(cost, state: &key.state)
            key.state.figures.queued += 1
            waiting.append(Waiter(ticket: ticket, key: key.name, priority: priority, cost: cost, since: now))
            return .queued
        }
        charge(cost, state: &key.state)
        key.state.figures.running += 1
        key.state.figures.admitted += 1
        running[ticket] = key.name
        return .admitted
    }

    /// Request `ticket` ended (served, failed or cancelled); returns the queued tickets admitted in its place.
    package mutating func finish(_ ticket: Ticket) -> [Ticket] {
        guard let key = running.removeValue(forKey: ticket) else { return [] }
        keys[key]?.figures.running -= 1
        return admitWaiters()
    }

    /// Takes queued request `ticket` out of the queue without running it (its client went away),
    /// giving its tokens back. Returns false when it was not waiting (already admitted or gone).
    package mutating func withdraw(_ ticket: Ticket) -> Bool {
        guard let index = waiting.firstIndex(where: { $0.ticket == ticket }) else { return false }
        refund(waiting.remove(at: index))
        return true
    }

    /// Refuses every request that has waited ``AdmissionBounds/maxQueueWait`` by `now`.
    package mutating func expire(now: RouterInstant) -> [(ticket: Ticket, refusal: Refusal)] {
        var expired: [(Ticket, Refusal)] = []
        var kept: [Waiter] = []
        for waiter in waiting {
            let waited = Duration.nanoseconds(now.nanoseconds - waiter.since.nanoseconds)
            guard waited >= bounds.maxQueueWait else {
                kept.append(waiter)
                continue
            }
            let refusal = Refusal.queueTimeout(waited: waited)
            refund(waiter)
            keys[waiter.key]?.figures.refused[refusal.reason, default: 0] += 1
            expired.append((waiter.ticket, refusal))
        }
        waiting = kept
        return expired
    }

    /// When the earliest waiter times out, if any waits.
    package var nextExpiry: RouterInstant? { waiting.map(\.since).min()?.advanced(by: bounds.maxQueueWait) }

    /// Every key's figures, with buckets refilled to `now`.
    package mutating func figures(now: RouterInstant) -> [String: KeyFigures] {
        var result: [String: KeyFigures] = [:]
        for name in keys.keys {
            var key = state(of: name, now: now)
            key.figures.tokensAvailable = key.figures.limits.tokensPerMinute.map { _ in key.tokens }
            keys[name] = key
            result[name] = key.figures
        }
        return result
    }

    // MARK: - Internals

    /// `key`'s state with its bucket refilled to `now` (a new key starts with a full bucket).
    private mutating func state(of key: String, now: RouterInstant) -> KeyState {
        guard var state = keys[key] else {
            let limits = limits(of: key)
            let fresh = KeyState(figures: KeyFigures(limits: limits), tokens: Double(limits.tokensPerMinute ?? 0), refilledAt: now)
            keys[key] = fresh
            return fresh
        }
        if let limit = state.figures.limits.tokensPerMinute, now > state.refilledAt {
            let refill = now.seconds(since: state.refilledAt) * Double(limit) / 60
            state.tokens = min(Double(limit), state.tokens + refill)
        }
        state.refilledAt = max(state.refilledAt, now)
        return state
    }

    private func refuse(_ refusal: Refusal, state: inout KeyState) -> Verdict {
        state.figures.refused[refusal.reason, default: 0] += 1
        return .refused(refusal)
    }

    private func charge(_ cost: Int, state: inout KeyState) {
        if state.figures.limits.tokensPerMinute != nil { state.tokens -= Double(cost) }
        state.figures.tokensCharged += UInt64(max(cost, 0))
    }

    private mutating func refund(_ waiter: Waiter) {
        guard var state = keys[waiter.key] else { return }
        state.figures.queued -= 1
        state.figures.tokensCharged -= UInt64(max(waiter.cost, 0))
        if let limit = state.figures.limits.tokensPerMinute {
            state.tokens = min(Double(limit), state.tokens + Double(waiter.cost))
        }
        keys[waiter.key] = state
    }

    /// Fills free slots from the queue: highest priority, then the key running fewest, then the earliest.
    private mutating func admitWaiters() -> [Ticket] {
        var admitted: [Ticket] = []
        while running.count < bounds.maxRunningRequests, !waiting.isEmpty {
            var best = 0
            for index in waiting.indices.dropFirst() where precedes(waiting[index], waiting[best]) { best = index }
            let waiter = waiting.remove(at: best)
            keys[waiter.key]?.figures.queued -= 1
            keys[waiter.key]?.figures.running += 1
            keys[waiter.key]?.figures.admitted += 1
            running[waiter.ticket] = waiter.key
            admitted.append(waiter.ticket)
        }
        return admitted
    }

    /// Whether `a` goes before `b` (`b` arrived first when the queue lists it first).
    private func precedes(_ a: Waiter, _ b: Waiter) -> Bool {
        if a.priority != b.priority { return a.priority > b.priority }
        let runningA = keys[a.key]?.figures.running ?? 0
        let runningB = keys[b.key]?.figures.running ?? 0
        return runningA < runningB
    }
}
