import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ServingClientError {
    /// The error for a failure AsyncHTTPClient reported while `request` to `url` was under way;
    /// `hasHead` tells whether the response head had arrived.
    init(transport error: any Error, url: ServingURL, request: String, readTimeout: Duration, hasHead: Bool) {
        let closed = hasHead
            ? "\(url) closed the connection in the body of the response to \(request)"
            : "\(url) closed the connection without answering \(request)"
                + (url.isSecure ? "" : " (if it serves HTTPS, use an https:// URL)")
        switch error {
        case let error as HTTPClientError where error == .connectTimeout:
            self = .timedOut("timed out connecting to \(url)")
        case let error as HTTPClientError where error == .readTimeout:
            self = .timedOut("timed out after \(Self.seconds(readTimeout)) waiting for the response from \(url)")
        case let error as HTTPClientError where error == .remoteConnectionClosed:
            self = .connectionClosed(closed)
        case HTTPParserError.invalidEOFState:
            self = .connectionClosed(closed)
        case let error as HTTPParserError:
            self = .malformedResponse("malformed HTTP response from \(url) to \(request): \(error)")
        case let error as NIOConnectionError:
            let reasons = error.connectionErrors.map { Self.reason($0.error) }
            if let reason = reasons.first {
                self = .connectionFailed("could not connect to \(url): \(reason)")
            } else {
                self = .connectionFailed("could not connect to \(url): cannot resolve '\(url.host)'")
            }
        case let error as IOError where !hasHead && [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH].contains(error.errnoCode):
            self = .connectionFailed("could not connect to \(url): \(Self.reason(error))")
        case let error as IOError where [ECONNRESET, EPIPE].contains(error.errnoCode):
            self = .connectionClosed(closed)
        case let error as NIOSSLError:
            self = .tls(Self.handshakeMessage(error, url: url))
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            self = .tls("TLS: the certificate of \(url) is not valid for the host '\(url.host)' (\(error))")
        case let error as NIOSSLExtraError:
            self = .tls("TLS with \(url) failed: \(error)")
        case ChannelError.connectTimeout:
            self = .timedOut("timed out connecting to \(url)")
        case ChannelError.eof, ChannelError.ioOnClosedChannel, ChannelError.outputClosed:
            self = .connectionClosed(closed)
        default:
            self = .connectionClosed("\(request) to \(url) failed: \(error)")
        }
    }

    /// What a failed TLS handshake means for the person at the terminal: an untrusted certificate,
    /// a server that does not speak TLS, or BoringSSL's own words.
    private static func handshakeMessage(_ error: NIOSSLError, url: ServingURL) -> String {
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return """
                TLS handshake with \(url) failed: its certificate is not trusted (no trusted CA signed it; \
                for a private CA give its certificate with --ca-file CA.pem or RADIXSERVE_CA_FILE)
                """
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("HTTP_REQUEST") || text.contains("PACKET_LENGTH_TOO_LONG") {
            return "TLS handshake with \(url) failed: the server does not speak TLS (try an http:// URL) (\(text))"
        }
        return "TLS handshake with \(url) failed: \(text)"
    }

    /// A short reason for a connection error: `connection refused`, or the error's own text.
    private static func reason(_ error: any Error) -> String {
        guard let error = error as? IOError else { return "\(error)" }
        return error.errnoCode == ECONNREFUSED ? "connection refused" : String(cString: strerror(error.errnoCode))
    }

    private static func seconds(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return seconds.rounded() == seconds ? "\(Int(seconds)) s" : "\(seconds) s"
    }
}
