import Foundation
import NIOSSL

/// Which servers an `https://` ``ServingURL`` may reach: those whose certificate chains to a CA of
/// the system trust store (``system``), or, like `curl --cacert`, to a CA of one PEM file instead
/// (a private or self-signed CA). Either way the certificate must also be valid for the URL's host.
public struct ServingTrust: Sendable {
    /// The PEM file of the trusted CAs; nil for the system trust store.
    public let caFile: String?
    /// The certificates of ``caFile``.
    let certificates: [NIOSSLCertificate]

    /// The system trust store.
    public static let system = ServingTrust(caFile: nil, certificates: [])

    private init(caFile: String?, certificates: [NIOSSLCertificate]) {
        self.caFile = caFile
        self.certificates = certificates
    }

    /// The CAs of the PEM file at `caFile`; `source` names where the path came from in messages.
    /// - Throws: ``ServingClientError/Code/tls`` when the file is missing, unreadable, or holds no
    ///   PEM certificate.
    public init(caFile: String, source: String = "--ca-file") throws {
        func invalid(_ problem: String) -> ServingClientError { .tls("\(source) \(caFile): \(problem)") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: caFile, isDirectory: &isDirectory) else { throw invalid("no such file") }
        guard !isDirectory.boolValue else { throw invalid("a directory, not a PEM file of CA certificates") }
        guard let data = FileManager.default.contents(atPath: caFile) else { throw invalid("cannot be read") }
        guard String(decoding: data, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
            throw invalid("not a PEM certificate file (no '-----BEGIN CERTIFICATE-----' line)")
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(Array(data))
        } catch {
            throw invalid("not a valid PEM certificate file (\(error))")
        }
        guard !certificates.isEmpty else { throw invalid("holds no certificate") }
        self.init(caFile: caFile, certificates: certificates)
    }

    /// `caFile` (the `--ca-file` flag) when given, else `RADIXSERVE_CA_FILE` when set and not
    /// empty, else ``system``.
    public static func fromFlags(
        caFile: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ServingTrust {
        if let caFile { return try ServingTrust(caFile: caFile) }
        if let path = environment["RADIXSERVE_CA_FILE"], !path.isEmpty {
            return try ServingTrust(caFile: path, source: "RADIXSERVE_CA_FILE")
        }
        return .system
    }

    /// The client TLS configuration: TLS 1.2 or later, full certificate and host name checks.
    var configuration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if caFile != nil { configuration.trustRoots = .certificates(certificates) }
        return configuration
    }
}
