// RadixServe: range checks of `radixserve worker`'s own flags.

import Transport

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

/// A flag value that cannot be used, said as the message to print.
public struct FlagProblem: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension WorkerFlags {
    /// The worker's CURVE settings for its router link from `--curve-secret-key` and
    /// `--router-public-key` (both or neither), and the exposure rule applied to `--listen`: the
    /// settings (nil: plain) and a warning to print, if any.
    /// - Throws: ``FlagProblem`` with the key file's problem or the exposure refusal.
    public static func routerTransport(
        listen: String?, curveSecretKey: String?, routerPublicKey: String?, insecure: Bool
    ) throws(FlagProblem) -> (curve: (serverPublicKey: String, keyPair: CurveKeyPair)?, warning: String?) {
        var curve: (serverPublicKey: String, keyPair: CurveKeyPair)?
        switch (curveSecretKey, routerPublicKey) {
        case (let secret?, let routerKey?):
            do { curve = (try CurveKeyPair.loadPublicKey(routerKey), try CurveKeyPair.load(secretKeyFile: secret)) } catch {
                throw FlagProblem(error.message)
            }
        case (nil, nil):
            break
        default:
            throw FlagProblem("--curve-secret-key and --router-public-key go together")
        }
        guard let listen else { return (curve, nil) }
        let exposure = EndpointExposure.check(listen, flag: "--listen", hasCurve: curve != nil, insecure: insecure)
        if let refusal = exposure?.refusal { throw FlagProblem(refusal) }
        return (curve, exposure?.warning)
    }
}
