import Foundation
import ArgumentParser
import ServingClient

/// Where the router is, for commands that talk to its HTTP API.
struct ServerOptions: ParsableArguments {
    @Option(help: "Router URL (http://HOST:PORT); requests go to its HTTP API.")
    var url: String?
    @Option(help: "Seconds to wait for the TCP connection to the router.")
    var connectTimeout: Double = 10
    @Option(help: "Seconds to wait for the next bytes of a response before giving up.")
    var timeout: Double = 600
    @Option(help: "API key sent as 'Authorization: Bearer KEY' (default: $RADIXSERVE_API_KEY).")
    var apiKey: String?

    func validate() throws {
        if let url {
            do {
                _ = try ServingURL(url)
            } catch {
                throw ValidationError("--url: \(error)")
            }
        }
        guard connectTimeout.isFinite && connectTimeout > 0 else {
            throw ValidationError("--connect-timeout must be positive, got \(connectTimeout)")
        }
        guard timeout.isFinite && timeout > 0 else { throw ValidationError("--timeout must be positive, got \(timeout)") }
    }

    /// Throws unless `--url` was given; for commands that only talk to a router.
    func requireURL(for command: String) throws {
        guard url != nil else {
            throw ValidationError("--url is required: \(command) talks to a router, e.g. --url http://127.0.0.1:8080")
        }
    }

    /// A client for `--url` (which must be set).
    func client() throws -> RouterClient {
        guard let url else { throw ValidationError("--url is required") }
        return RouterClient(
            url: try ServingURL(url), connectTimeout: .milliseconds(Int64(connectTimeout * 1000)),
            readTimeout: .milliseconds(Int64(timeout * 1000)),
            apiKey: apiKey ?? ProcessInfo.processInfo.environment["RADIXSERVE_API_KEY"].flatMap { $0.isEmpty ? nil : $0 })
    }
}
