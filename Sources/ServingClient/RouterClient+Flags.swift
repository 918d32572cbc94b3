import Foundation

/// The client commands' `--url`, `--connect-timeout`, `--timeout` and `--api-key` flags.
extension RouterClient {
    /// The first problem with these flag values, named as the flag is spelled, or nil.
    public static func flagsProblem(url: String?, connectTimeout: Double, timeout: Double) -> String? {
        if let url {
            do { _ = try ServingURL(url) } catch { return "--url: \(error)" }
        }
        guard connectTimeout.isFinite && connectTimeout > 0 else { return "--connect-timeout must be positive, got \(connectTimeout)" }
        guard timeout.isFinite && timeout > 0 else { return "--timeout must be positive, got \(timeout)" }
        return nil
    }

    /// A client from the flags' values; without `apiKey`, `$RADIXSERVE_API_KEY` when set and not empty.
    public init(url: String, connectTimeout: Double, timeout: Double, apiKey: String?) throws {
        self.init(
            url: try ServingURL(url), connectTimeout: .milliseconds(Int64(connectTimeout * 1000)),
            readTimeout: .milliseconds(Int64(timeout * 1000)),
            apiKey: apiKey ?? ProcessInfo.processInfo.environment["RADIXSERVE_API_KEY"].flatMap { $0.isEmpty ? nil : $0 })
    }
}
