// RadixServe: range checks of `radixserve worker`'s own flags.

/// The worker's connection and lifetime values as flags give them, checked before anything starts.
public enum WorkerFlags {
    /// The first problem, named as the flag is spelled, or nil.
    public static func problem(
        router: String?, listen: String?, workerID: UInt32?, registrationTimeout: Double, drainTimeout: Double,
        metricsPort: Int?
    ) -> String? {
        if let metricsPort, !(0...65535).contains(metricsPort) { return "--metrics-port must be in 0...65535, got \(metricsPort)" }
        if (router == nil) == (listen == nil) {
            return "give exactly one of --router ENDPOINT (connect to a router) or --listen ENDPOINT (wait for one)"
        }
        for (flag, endpoint, isListening) in [("--router", router, false), ("--listen", listen, true)] {
            if let endpoint, !RouterConnection.isValidEndpoint(endpoint, allowsWildcardPort: isListening) {
                return "\(flag) '\(endpoint)' is not an endpoint like tcp://HOST:PORT or ipc://PATH"
            }
        }
        if workerID == 0 { return "--worker-id must be in 1...\(UInt32.max), got 0" }
        if !(registrationTimeout.isFinite && registrationTimeout > 0) {
            return "--registration-timeout must be positive, got \(registrationTimeout)"
        }
        if !(drainTimeout.isFinite && drainTimeout >= 0 && drainTimeout <= 86_400) {
            return "--drain-timeout must be in 0...86400 seconds, got \(drainTimeout)"
        }
        return nil
    }
}
