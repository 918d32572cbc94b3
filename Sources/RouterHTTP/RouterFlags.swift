// RadixServe: range checks of the router's flags, shared by `router` and `up`.

import RouterCore
import Transport

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

/// The router's CURVE identity and the worker keys it admits on its worker socket.
package struct RouterCurve: Sendable {
    /// The router's key pair (`--curve-secret-key`); workers need its public key.
    package var keyPair: CurveKeyPair
    /// The worker public keys admitted (`--authorized-keys`).
    package var authorizedKeys: CurveAllowlist
    /// The router's public key (Z85), which workers pass as `--router-public-key`.
    package var publicKey: String { keyPair.publicKey }
}

extension RouterFlags {
    /// The worker endpoint of `router`: `given`, else `tcp://127.0.0.1:<port>` (loopback by default).
    package static func workerEndpoint(given: String?, port: Int) throws(RouterLaunchError) -> String {
        guard (0...65535).contains(port) else { throw RouterLaunchError(message: "--worker-port must be in 0...65535, got \(port)") }
        if let given, !(given.hasPrefix("tcp://") || given.hasPrefix("ipc://")) {
            throw RouterLaunchError(message: "--worker-endpoint '\(given)' must start with tcp:// or ipc://")
        }
        return given ?? "tcp://127.0.0.1:\(port)"
    }

    /// The worker endpoint (``workerEndpoint(given:port:)``), `--curve-secret-key` and
    /// `--authorized-keys` loaded (both or neither), and the exposure rule applied to the endpoint:
    /// the endpoint, the CURVE settings (nil: plain) and a warning to print, if any.
    /// - Throws: ``RouterLaunchError`` with the key file's problem, or the exposure refusal.
    package static func workerTransport(
        endpoint given: String?, port: Int, curveSecretKey: String?, authorizedKeys: String?, insecure: Bool
    ) throws(RouterLaunchError) -> (endpoint: String, curve: RouterCurve?, warning: String?) {
        let endpoint = try workerEndpoint(given: given, port: port)
        var curve: RouterCurve?
        switch (curveSecretKey, authorizedKeys) {
        case (let secret?, let authorized?):
            do {
                curve = RouterCurve(keyPair: try .load(secretKeyFile: secret), authorizedKeys: try .load(authorized))
            } catch {
                throw RouterLaunchError(message: error.message)
            }
        case (nil, nil):
            break
        default:
            throw RouterLaunchError(message: "--curve-secret-key and --authorized-keys go together (the router admits only listed worker keys)")
        }
        let exposure = EndpointExposure.check(endpoint, flag: "--worker-endpoint", hasCurve: curve != nil, insecure: insecure)
        if let refusal = exposure?.refusal { throw RouterLaunchError(message: refusal) }
        return (endpoint, curve, exposure?.warning)
    }
}
