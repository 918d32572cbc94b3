import Foundation

/// The base address of a server: `http://HOST[:PORT][/PATH]` or `https://HOST[:PORT][/PATH]`.
///
/// HOST is a DNS name (e.g. `localhost`) or a dotted IPv4 address; IPv6 literals, other schemes,
/// credentials, queries and fragments are rejected with a message saying so. PORT defaults to 80
/// (443 for https). A PATH is kept as a prefix of every request path (for a router behind a
/// reverse proxy); a trailing slash is dropped. With https the server's certificate must be
/// valid for HOST and signed by a trusted CA (see ``ServingTrust``).
public struct ServingURL: Sendable, Hashable, CustomStringConvertible {
    /// `true` for `https`: requests go over TLS.
    public let isSecure: Bool
    /// The host name or IPv4 address, lowercased.
    public let host: String
    /// The TCP port, in 1...65535.
    public let port: Int
    /// The path prefix without a trailing slash: `""` or e.g. `"/radixserve"`.
    public let basePath: String

    /// Parses and validates `text`; throws ``ServingClientError/Code/invalidURL`` naming the problem.
    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        func invalid(_ reason: String) -> ServingClientError {
            .invalidURL("invalid URL '\(text)': \(reason); expected http://HOST:PORT or https://HOST:PORT")
        }
        guard let schemeEnd = trimmed.range(of: "://") else { throw invalid("no scheme") }
        let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { throw invalid("scheme '\(scheme)' is not http or https") }
        let rest = trimmed[schemeEnd.upperBound...]
        guard !rest.contains("?") && !rest.contains("#") else { throw invalid("queries and fragments are not allowed") }
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        while path.hasSuffix("/") { path.removeLast() }
        guard !authority.contains("@") else { throw invalid("credentials are not supported") }
        guard !authority.hasPrefix("[") else { throw invalid("IPv6 addresses are not supported") }

        let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw invalid("more than one ':' in '\(authority)'") }
        let host = parts[0].lowercased()
        guard !host.isEmpty else { throw invalid("no host") }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.")
        guard host.allSatisfy(allowed.contains), !host.hasPrefix("."), !host.hasPrefix("-") else {
            throw invalid("'\(host)' is not a host name or IPv4 address")
        }
        var port = scheme == "https" ? 443 : 80
        if parts.count == 2 {
            guard let value = Int(parts[1]), parts[1].allSatisfy(\.isASCII), (1...65535).contains(value) else {
                throw invalid("port '\(parts[1])' is not in 1...65535")
            }
            port = value
        }
        guard !path.contains(" ") else { throw invalid("spaces in the path") }
        self.isSecure = scheme == "https"
        self.host = host
        self.port = port
        self.basePath = path
    }

    /// `https` or `http`.
    public var scheme: String { isSecure ? "https" : "http" }

    /// The `Host` header value.
    public var authority: String { port == (isSecure ? 443 : 80) ? host : "\(host):\(port)" }

    /// `http://HOST:PORT/PATH` (or `https://…`), always with the port.
    public var description: String { "\(scheme)://\(host):\(port)\(basePath)" }

    /// The request target for an API path such as `/v1/models`, under ``basePath``.
    public func target(_ path: String) -> String { basePath + path }
}
