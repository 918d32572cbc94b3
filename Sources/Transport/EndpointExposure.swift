// Whether a ZeroMQ endpoint is reachable from other hosts, and the rule for binding one in the clear.

/// The safe-default rule of every listener (router worker socket, `worker --listen`, tensor-parallel
/// rendezvous and data sockets): binding a TCP address other than loopback without CURVE is refused
/// unless the operator asked for it (`--insecure-transport`), and then it is done with a warning.
public enum EndpointExposure {
    /// Whether `endpoint` stays on this host: `ipc://`, `inproc://`, or `tcp://` on 127.0.0.0/8,
    /// `::1` or `localhost`. `tcp://*:…`, `tcp://0.0.0.0:…` and every other address are not.
    public static func isLocal(_ endpoint: String) -> Bool {
        if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return true }
        guard endpoint.hasPrefix("tcp://") else { return false }
        var host = Substring(endpoint.dropFirst("tcp://".count))
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        if let semicolon = host.lastIndex(of: ";") { host = host[host.index(after: semicolon)...] }  // source;destination
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// What to do about binding `endpoint` (named as `flag` in messages): `nil` when it is local or
    /// `hasCurve`; otherwise a refusal without `insecure`, or the warning to print with it.
    public static func check(
        _ endpoint: String, flag: String, hasCurve: Bool, insecure: Bool
    ) -> (refusal: String?, warning: String?)? {
        guard !hasCurve, !isLocal(endpoint) else { return nil }
        if insecure {
            return (nil, "WARNING: \(flag) \(endpoint) is reachable from other hosts and its traffic is not encrypted or authenticated (--insecure-transport)")
        }
        return ("\(flag) \(endpoint) is reachable from other hosts without CURVE; configure CURVE keys (see README, \"Security\") "
            + "or pass --insecure-transport to accept unencrypted, unauthenticated traffic", nil)
    }
}
