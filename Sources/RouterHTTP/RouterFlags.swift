// RadixServe: range checks of the router's flags, shared by `router` and `up`.

import RouterCore

/// The router's tunable values as flags give them, checked before anything starts.
package enum RouterFlags {
    /// The first problem with these values, named as the flag is spelled, or nil.
    package static func problem(
        recomputeWeight: Double?, httpPort: Int, policy: String, pageSize: Int, heartbeatMs: Int, missedHeartbeats: Int,
        maxAttempts: Int
    ) -> String? {
        if let recomputeWeight, !(recomputeWeight.isFinite && (0...100).contains(recomputeWeight)) {
            return "--recompute-weight must be in 0...100, got \(recomputeWeight)"
        }
        if !(0...65535).contains(httpPort) { return "--http-port must be in 0...65535, got \(httpPort)" }
        if DispatchPolicy(rawValue: policy) == nil {
            return "--policy '\(policy)' is unknown; choose one of \(DispatchPolicy.allCases.map(\.rawValue).joined(separator: ", "))"
        }
        if !(1...1024).contains(pageSize) { return "--page-size must be in 1...1024, got \(pageSize)" }
        if !(10...60_000).contains(heartbeatMs) { return "--heartbeat-ms must be in 10...60000, got \(heartbeatMs)" }
        if !(1...100).contains(missedHeartbeats) { return "--missed-heartbeats must be in 1...100, got \(missedHeartbeats)" }
        if !(1...10).contains(maxAttempts) { return "--max-attempts must be in 1...10, got \(maxAttempts)" }
        return nil
    }
}
