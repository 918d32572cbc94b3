import Foundation
import Logging
import ProcessLogging
import RouterHTTP
import ServiceLifecycle
import ServingClient
import ServingTypes
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// HTTPS on the router: reading `--tls-cert-file`/`--tls-key-file` with clear errors, and a live
/// TLS server reached through ``RouterClient``.
@Suite(.timeLimit(.minutes(5))) struct RouterTLSTests {
    /// The problem `load` reports, or "loaded".
    private func failure(cert: String?, key: String?) -> String {
        do {
            _ = try RouterTLS.load(certificateFile: cert, keyFile: key)
            return "loaded"
        } catch { return error.description }
    }

    @Test func loadsTheFixtureCertificateAndKey() throws {
        #expect(try RouterTLS.load(certificateFile: nil, keyFile: nil) == nil)
        let tls = try #require(try RouterTLS.load(certificateFile: Fixtures.tls("server.pem"), keyFile: try Fixtures.privateTLSKey()))
        #expect(tls.certificateChain.count == 1)
        #expect(tls.certificateFile == Fixtures.tls("server.pem"))
    }

    @Test func eachBadFileFailsNamingTheFlagAndTheFile() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func file(_ name: String, _ text: String, mode: mode_t = 0o600) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, mode)
            return path
        }
        let cert = Fixtures.tls("server.pem")
        let key = try Fixtures.privateTLSKey()

        #expect(failure(cert: cert, key: nil).contains("--tls-cert-file needs --tls-key-file"))
        #expect(failure(cert: nil, key: key).contains("--tls-key-file needs --tls-cert-file"))

        let missing = directory.appendingPathComponent("missing.pem").path
        #expect(failure(cert: missing, key: key) == "--tls-cert-file \(missing): No such file or directory")
        #expect(failure(cert: cert, key: missing) == "--tls-key-file \(missing): No such file or directory")
        #expect(failure(cert: directory.path, key: key) == "--tls-cert-file \(directory.path): not a regular file")

        let garbage = try file("garbage.pem", "hello, not a certificate\n")
        #expect(failure(cert: garbage, key: key).hasPrefix("--tls-cert-file \(garbage): not a PEM certificate"))
        #expect(failure(cert: key, key: key).hasPrefix("--tls-cert-file \(key): not a PEM certificate"), "a key given as the certificate")
        let broken = try file("broken.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        #expect(failure(cert: broken, key: key).hasPrefix("--tls-cert-file \(broken): not a valid PEM certificate chain"))

        let certificateAsKey = try file("cert-as-key.pem", try String(contentsOfFile: cert, encoding: .utf8))
        #expect(failure(cert: cert, key: certificateAsKey).hasPrefix("--tls-key-file \(certificateAsKey): not a PEM private key"))
        let brokenKey = try file("broken.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        #expect(failure(cert: cert, key: brokenKey).hasPrefix("--tls-key-file \(brokenKey): not a valid PEM private key"))
        let encrypted = try file("encrypted.key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")
        #expect(failure(cert: cert, key: encrypted).contains("is encrypted"))

        let otherKey = try Fixtures.privateTLSKey("other.key")
        let mismatch = failure(cert: cert, key: otherKey)
        #expect(mismatch.hasPrefix("--tls-key-file \(otherKey): does not match the certificate of --tls-cert-file \(cert)"), "\(mismatch)")

        let readable = try file("readable.key", try String(contentsOfFile: key, encoding: .utf8), mode: 0o644)
        #expect(failure(cert: cert, key: readable).hasPrefix("--tls-key-file \(readable): readable by other users (mode 644)"))
        chmod(readable, 0o640)
        #expect(failure(cert: cert, key: readable).hasPrefix("--tls-key-file \(readable): readable by other users (mode 640)"))
    }

    /// Runs `body` with the port of the harness's routes served over TLS on 127.0.0.1, then stops
    /// the server gracefully.
    private func serving(_ body: @Sendable (RouterHarness, Int) async throws -> Void) async throws {
        let tls = try #require(try RouterTLS.load(certificateFile: Fixtures.tls("server.pem"), keyFile: try Fixtures.privateTLSKey()))
        let harness = try RouterHarness()
        defer { harness.close() }
        let (ports, bound) = AsyncStream<Int>.makeStream()
        let application = harness.server.application(host: "127.0.0.1", port: 0, tls: tls, logger: .discarding()) { bound.yield($0) }
        let group = ServiceGroup(services: [application], logger: .discarding())
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var next = ports.makeAsyncIterator()
            let port = try #require(await next.next())
            do {
                try await body(harness, port)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    private func client(_ port: Int, ca: String, host: String = "127.0.0.1") throws -> RouterClient {
        RouterClient(
            url: try ServingURL("https://\(host):\(port)"), connectTimeout: .seconds(30), readTimeout: .seconds(120),
            trust: try ServingTrust(caFile: ca))
    }

    @Test func servesHealthAndCompletionsOverTLSToAClientTrustingItsCA() async throws {
        try await serving { harness, port in
            _ = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            let (healthy, completion, byName) = try await onOwnThread {
                let client = try client(port, ca: Fixtures.tls("ca.pem"))
                let request = CompletionRequest(model: "llama-gqa", prompt: .text("Hello world"), sampling: SamplingFields(maxTokens: 4))
                return (
                    try client.isHealthy(), try client.complete(request),
                    try self.client(port, ca: Fixtures.tls("ca.pem"), host: "localhost").isHealthy())
            }
            #expect(healthy)
            #expect(byName, "the certificate names localhost too")
            #expect(completion.text == Served.generated)
        }
    }

    @Test func aClientTrustingAnotherCAIsRefusedNamingTheCertificate() async throws {
        try await serving { _, port in
            let error = try await onOwnThread { () -> ServingClientError? in
                do {
                    _ = try client(port, ca: Fixtures.tls("other-ca.pem")).isHealthy()
                    return nil
                } catch let error as ServingClientError { return error }
            }
            let refusal = try #require(error, "a certificate from an untrusted CA was accepted")
            #expect(refusal.code == .tls)
            #expect(refusal.message.contains("TLS handshake with https://127.0.0.1:\(port) failed"), "\(refusal.message)")
            #expect(refusal.message.contains("certificate is not trusted"), "\(refusal.message)")
            #expect(refusal.message.contains("--ca-file"), "\(refusal.message)")
        }
    }

    @Test func aPlainHTTPRequestIsClosedAndTheServerKeepsServing() async throws {
        try await serving { _, port in
            let answer = try await onOwnThread { try Self.plainRequest(port: port) }
            #expect(!answer.hasPrefix("HTTP/1.1 200"), "plain HTTP was answered: \(answer)")
            let healthy = try await onOwnThread { try client(port, ca: Fixtures.tls("ca.pem")).isHealthy() }
            #expect(!healthy, "no worker is routable, so /health says 503; what matters is that it answered")
        }
    }

    /// Sends `GET /health` in the clear to `port` and reads until the server closes the connection
    /// (at most 10 s): what came back, as text.
    private static func plainRequest(port: Int) throws -> String {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socket >= 0)
        defer { close(socket) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0, "connect: \(String(cString: strerror(errno)))")
        let request = Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += buffer[..<count]
                continue
            }
            // 0: closed, as expected; < 0 with ECONNRESET: closed abruptly, also fine; EAGAIN: it hung.
            try #require(count == 0 || errno != EAGAIN, "the server neither answered nor closed within 10 s")
            break
        }
        return String(decoding: received, as: UTF8.self)
    }
}
