import ArgumentParser
import ServingClient

/// Where the router is, for commands that talk to its HTTP API.
struct ServerOptions: ParsableArguments {
    @Option(help: "Router URL (http://HOST:PORT or https://HOST:PORT); requests go to its HTTP API.") var url: String?
    @Option(help: "Seconds to wait for the TCP connection to the router.") var connectTimeout: Double = 10
    @Option(help: "Seconds to wait for the next bytes of a response before giving up.") var timeout: Double = 600
    @Option(help: "API key sent as 'Authorization: Bearer KEY' (default: $RADIXSERVE_API_KEY).") var apiKey: String?
    @Option(help: "PEM file of the CAs an https router's certificate may chain to, instead of the system's (default: $RADIXSERVE_CA_FILE).")
    var caFile: String?

    func validate() throws {
        if let problem = RouterClient.flagsProblem(url: url, connectTimeout: connectTimeout, timeout: timeout, caFile: caFile) { throw ValidationError(problem) }
    }

    /// Throws unless `--url` was given; for commands that only talk to a router.
    func requireURL(for command: String) throws {
        guard url != nil else { throw ValidationError("--url is required: \(command) talks to a router, e.g. --url http://127.0.0.1:8080") }
    }

    /// A client for `--url` (which must be set).
    func client() throws -> RouterClient {
        guard let url else { throw ValidationError("--url is required") }
        return try RouterClient(url: url, connectTimeout: connectTimeout, timeout: timeout, apiKey: apiKey, caFile: caFile)
    }
}
