// RadixServe: the certificate and key the router serves HTTPS with, read and checked at start.

import Foundation
import HummingbirdCore
import HummingbirdTLS
import NIOSSL

/// A problem with `--tls-cert-file` or `--tls-key-file`; the router refuses to start with it.
package struct RouterTLSError: Error, Sendable, CustomStringConvertible {
    package var description: String
}

/// HTTPS for the router's HTTP API: a PEM certificate chain (the server's certificate first, then
/// any intermediates) and the PEM private key of its first certificate. With it the server speaks
/// TLS 1.2 or later only; a plain-HTTP request fails its handshake and is closed.
package struct RouterTLS: Sendable {
    /// The `--tls-cert-file` path.
    package let certificateFile: String
    /// The `--tls-key-file` path.
    package let keyFile: String
    /// The certificates of ``certificateFile``, in file order.
    package let certificateChain: [NIOSSLCertificate]
    /// What `Application` builds its child channels with: HTTP/1.1 behind TLS.
    let server: HTTPServerBuilder

    /// `nil` (plain HTTP) when neither path is given, else ``init(certificateFile:keyFile:)``.
    /// - Throws: ``RouterTLSError`` when only one is given, or the files are not usable.
    package static func load(certificateFile: String?, keyFile: String?) throws(RouterTLSError) -> RouterTLS? {
        switch (certificateFile, keyFile) {
        case (nil, nil): return nil
        case (let certificateFile?, let keyFile?): return try RouterTLS(certificateFile: certificateFile, keyFile: keyFile)
        case (_?, nil): throw RouterTLSError(description: "--tls-cert-file needs --tls-key-file (the certificate's private key)")
        case (nil, _?): throw RouterTLSError(description: "--tls-key-file needs --tls-cert-file (the certificate chain)")
        }
    }

    /// Reads and checks both files: each must be a readable regular file in PEM form; the key must
    /// be readable by its owner only and belong to the chain's first certificate. Encrypted keys
    /// are refused (the router cannot ask for a passphrase).
    package init(certificateFile: String, keyFile: String) throws(RouterTLSError) {
        func failure(_ flag: String, _ path: String, _ problem: String) -> RouterTLSError {
            RouterTLSError(description: "\(flag) \(path): \(problem)")
        }
        let certificateText = try Self.contents(of: certificateFile, flag: "--tls-cert-file", isSecret: false)
        guard certificateText.contains("-----BEGIN CERTIFICATE-----") else {
            throw failure("--tls-cert-file", certificateFile, "not a PEM certificate (no '-----BEGIN CERTIFICATE-----' line)")
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(certificateText.utf8))
        } catch {
            throw failure("--tls-cert-file", certificateFile, "not a valid PEM certificate chain (\(error))")
        }
        guard !chain.isEmpty else { throw failure("--tls-cert-file", certificateFile, "holds no certificate") }

        let keyText = try Self.contents(of: keyFile, flag: "--tls-key-file", isSecret: true)
        if keyText.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || keyText.contains("Proc-Type: 4,ENCRYPTED") {
            throw failure("--tls-key-file", keyFile, """
                the key is encrypted and the router cannot ask for its passphrase; \
                store it decrypted (e.g. openssl pkey -in \(keyFile) -out plain.key) with mode 600
                """)
        }
        guard keyText.range(of: #"-----BEGIN ([A-Z]+ )?PRIVATE KEY-----"#, options: .regularExpression) != nil else {
            throw failure("--tls-key-file", keyFile, "not a PEM private key (no '-----BEGIN PRIVATE KEY-----' line)")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: Array(keyText.utf8), format: .pem)
        } catch {
            throw failure("--tls-key-file", keyFile, "not a valid PEM private key (\(error))")
        }

        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        // The context is what the server builds per listener; building it here turns a key that
        // does not sign for the certificate into a start-up error rather than a failed listener.
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw failure(
                "--tls-key-file", keyFile, "does not match the certificate of --tls-cert-file \(certificateFile) (\(error))")
        }
        do {
            server = try .tls(.http1(), tlsConfiguration: configuration)
        } catch {
            throw failure("--tls-cert-file", certificateFile, "cannot serve TLS with it (\(error))")
        }
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        certificateChain = chain
    }

    /// The text of the regular file at `path`; a secret one must be readable by its owner only.
    private static func contents(of path: String, flag: String, isSecret: Bool) throws(RouterTLSError) -> String {
        func failure(_ problem: String) -> RouterTLSError { RouterTLSError(description: "\(flag) \(path): \(problem)") }
        var status = stat()
        guard stat(path, &status) == 0 else { throw failure(String(cString: strerror(errno))) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw failure("not a regular file") }
        if isSecret && status.st_mode & 0o044 != 0 {
            throw failure("""
                readable by other users (mode \(String(status.st_mode & 0o777, radix: 8))); \
                restrict it, e.g. chmod 600 \(path)
                """)
        }
        guard access(path, R_OK) == 0 else { throw failure(String(cString: strerror(errno))) }
        guard let data = FileManager.default.contents(atPath: path) else { throw failure("cannot be read") }
        guard let text = String(data: data, encoding: .utf8) else { throw failure("not PEM text (not UTF-8)") }
        return text
    }
}
