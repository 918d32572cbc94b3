import Foundation
import ServingClient
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `--ca-file` / `RADIXSERVE_CA_FILE`: which CAs an `https://` router may present, with clear
/// errors for unusable files. (A live TLS router is exercised in RouterHTTPTests.RouterTLSTests.)
@Suite struct ServingTrustTests {
    /// The message a bad CA file gives, or "loaded".
    private func failure(_ caFile: String) -> String {
        do {
            _ = try ServingTrust(caFile: caFile)
            return "loaded"
        } catch let error as ServingClientError {
            #expect(error.code == .tls)
            return error.message
        } catch { return "\(error)" }
    }

    @Test func loadsACAFileAndDefaultsToTheSystemStore() throws {
        #expect(try ServingTrust(caFile: Fixtures.tls("ca.pem")).caFile == Fixtures.tls("ca.pem"))
        #expect(try ServingTrust.fromFlags(caFile: nil, environment: [:]).caFile == nil)
        #expect(try ServingTrust.fromFlags(caFile: nil, environment: ["RADIXSERVE_CA_FILE": ""]).caFile == nil)
        let fromEnvironment = try ServingTrust.fromFlags(caFile: nil, environment: ["RADIXSERVE_CA_FILE": Fixtures.tls("ca.pem")])
        #expect(fromEnvironment.caFile == Fixtures.tls("ca.pem"))
        let flagFirst = try ServingTrust.fromFlags(
            caFile: Fixtures.tls("other-ca.pem"), environment: ["RADIXSERVE_CA_FILE": Fixtures.tls("ca.pem")])
        #expect(flagFirst.caFile == Fixtures.tls("other-ca.pem"))
    }

    @Test func badCAFilesFailNamingTheFile() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("missing.pem").path
        #expect(failure(missing) == "--ca-file \(missing): no such file")
        #expect(failure(directory.path).hasPrefix("--ca-file \(directory.path): a directory"))
        let key = Fixtures.tls("server.key")
        #expect(failure(key).hasPrefix("--ca-file \(key): not a PEM certificate file"))
        let broken = directory.appendingPathComponent("broken.pem").path
        try "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".write(toFile: broken, atomically: true, encoding: .utf8)
        #expect(failure(broken).hasPrefix("--ca-file \(broken): not a valid PEM certificate file"))

        let problem = RouterClient.flagsProblem(
            url: "https://127.0.0.1:8443", connectTimeout: 1, timeout: 1, environment: ["RADIXSERVE_CA_FILE": missing])
        #expect(problem == "RADIXSERVE_CA_FILE \(missing): no such file")
        #expect(RouterClient.flagsProblem(url: "https://127.0.0.1:8443", connectTimeout: 1, timeout: 1, caFile: key)?
            .hasPrefix("--ca-file \(key)") == true)
        #expect(RouterClient.flagsProblem(
            url: "https://127.0.0.1:8443", connectTimeout: 1, timeout: 1, caFile: Fixtures.tls("ca.pem"), environment: [:]) == nil)
    }

    @Test func anHTTPSURLToAPlainHTTPServerFailsWithATLSError() throws {
        let port = try Self.answerInTheClear()
        let url = try ServingURL("https://127.0.0.1:\(port)")
        let client = ServingHTTPClient(
            url: url, connectTimeout: .seconds(30), readTimeout: .seconds(60), trust: try ServingTrust(caFile: Fixtures.tls("ca.pem")))
        #expect {
            _ = try client.send("GET", "/health")
        } throws: { error in
            guard let error = error as? ServingClientError else { return false }
            return error.code == .tls && error.message.hasPrefix("TLS handshake with \(url) failed: the server does not speak TLS")
        }
    }

    /// A loopback port whose first connection gets a plain-HTTP 400 to whatever it sends first, as
    /// a plain HTTP server answers a TLS ClientHello; then the listener closes.
    private static func answerInTheClear() throws -> Int {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(listener >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        try #require(bound && listen(listener, 1) == 0)
        Thread {
            defer { close(listener) }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            let answer = Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
            _ = answer.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }.start()
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
