import AsyncHTTPClient
import NIOCore

/// The AsyncHTTPClient instance behind a ``ServingHTTPClient``, shared by all its copies (and so
/// by every thread of a benchmark); a command-line process makes one.
///
/// Configured with the client's timeouts (`connect`, and `read`: the longest silence between
/// response bytes), the CAs it trusts for `https`, without redirects or retried connection
/// attempts, on AsyncHTTPClient's default event loop group. Shut down when the last copy goes away.
final class HTTPSession: Sendable {
    let client: HTTPClient

    init(connectTimeout: Duration, readTimeout: Duration, trust: ServingTrust) {
        var configuration = HTTPClient.Configuration(tlsConfiguration: trust.configuration)
        configuration.timeout = .init(connect: Self.timeAmount(connectTimeout), read: Self.timeAmount(readTimeout))
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.retryConnectionEstablishment = false
        // One connection per request in flight: a benchmark or a test streams from many threads at
        // once, and with AsyncHTTPClient's default of 8 the 9th request waited for a pooled
        // connection and failed after the connect timeout.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 4096
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    deinit {
        // Non-blocking: the last copy may go away on any thread.
        client.shutdown { _ in }
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow else { return .nanoseconds(.max) }
        return .nanoseconds(nanoseconds.partialValue + attoseconds / 1_000_000_000)
    }
}
