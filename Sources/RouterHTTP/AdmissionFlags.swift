// RadixServe: the router's admission flags, checked and turned into an AdmissionGate.

import RouterCore

/// `--max-running-requests`, `--max-queued-requests`, `--max-queue-wait`,
/// `--key-max-concurrent-requests` and `--key-tokens-per-minute`, shared by `router` and `up`.
package struct AdmissionFlags: Sendable {
    package var maxRunningRequests: Int
    package var maxQueuedRequests: Int
    /// Seconds.
    package var maxQueueWait: Double
    package var keyMaxConcurrentRequests: Int?
    package var keyTokensPerMinute: Int?

    package init(
        maxRunningRequests: Int = AdmissionBounds().maxRunningRequests, maxQueuedRequests: Int = AdmissionBounds().maxQueuedRequests,
        maxQueueWait: Double = 60, keyMaxConcurrentRequests: Int? = nil, keyTokensPerMinute: Int? = nil
    ) {
        self.maxRunningRequests = maxRunningRequests
        self.maxQueuedRequests = maxQueuedRequests
        self.maxQueueWait = maxQueueWait
        self.keyMaxConcurrentRequests = keyMaxConcurrentRequests
        self.keyTokensPerMinute = keyTokensPerMinute
    }

    /// The first value out of range, named as the flag is spelled, or nil.
    package var problem: String? {
        if !(1...1_000_000).contains(maxRunningRequests) { return "--max-running-requests must be in 1...1000000, got \(maxRunningRequests)" }
        if !(0...1_000_000).contains(maxQueuedRequests) { return "--max-queued-requests must be in 0...1000000, got \(maxQueuedRequests)" }
        if !(maxQueueWait.isFinite && maxQueueWait > 0 && maxQueueWait <= 86_400) {
            return "--max-queue-wait must be in (0, 86400] seconds, got \(maxQueueWait)"
        }
        if let limit = keyMaxConcurrentRequests, limit < 1 { return "--key-max-concurrent-requests must be at least 1, got \(limit)" }
        if let limit = keyTokensPerMinute, limit < 1 { return "--key-tokens-per-minute must be at least 1, got \(limit)" }
        return nil
    }

    /// The gate for `access`'s keys: every user key (and the admin key, and requests without a
    /// key) is held to the per-key defaults, a key file's own limits over them.
    package func gate(access: APIAccess) -> AdmissionGate {
        let keys = access.userKeys + access.adminKeys
        return AdmissionGate(
            bounds: AdmissionBounds(
                maxRunningRequests: maxRunningRequests, maxQueuedRequests: maxQueuedRequests,
                maxQueueWait: .milliseconds(Int64(maxQueueWait * 1000))),
            defaults: KeyLimits(maxConcurrentRequests: keyMaxConcurrentRequests, tokensPerMinute: keyTokensPerMinute),
            perKey: Dictionary(keys.map { ($0.name, $0.limits) }, uniquingKeysWith: { first, _ in first }),
            knownKeys: access.isProtected ? access.userKeys.map(\.name) : [AdmissionGate.anonymous])
    }
}
