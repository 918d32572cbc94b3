import Foundation

/// The client commands' `--url`, `--connect-timeout`, `--timeout`, `--api-key` and `--ca-file` flags.
extension RouterClient {
    /// The first problem with these flag values, named as the flag is spelled, or nil. `caFile`
    /// (else `$RADIXSERVE_CA_FILE`) must be a readable PEM file of CA certificates.
    public static func flagsProblem(
        url: String?, connectTimeout: Double, timeout: Double, caFile: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String? {
        if let url {
            do { _ = try ServingURL(url) } catch { return "--url: \(error)" }
        }
        guard connectTimeout.isFinite && connectTimeout > 0 else { return "--connect-timeout must be positive, got \(connectTimeout)" }
        guard timeout.isFinite && timeout > 0 else { return "--timeout must be positive, got \(timeout)" }
        do { _ = try ServingTrust.fromFlags(caFile: caFile, environment: environment) } catch { return "\(error)" }
        return nil
    }

    /// A client from the flags' values; without `apiKey`, `$RADIXSERVE_API_KEY` when set and not
    /// empty; without `caFile`, `$RADIXSERVE_CA_FILE` likewise, else the system trust store.
    public init(url: String, connectTimeout: Double, timeout: Double, apiKey: String?, caFile: String? = nil) throws {
        let environment = ProcessInfo.processInfo.environment
        self.init(
            url: try ServingURL(url), connectTimeout: .milliseconds(Int64(connectTimeout * 1000)),
            readTimeout: .milliseconds(Int64(timeout * 1000)),
            apiKey: apiKey ?? environment["RADIXSERVE_API_KEY"].flatMap { $0.isEmpty ? nil : $0 },
            trust: try ServingTrust.fromFlags(caFile: caFile, environment: environment))
    }
}
