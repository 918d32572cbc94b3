import ArgumentParser
import RouterHTTP

/// HTTPS for `router` and `up`: a PEM certificate chain and its key (both or neither).
struct TLSOptions: ParsableArguments {
    @Option(help: "PEM certificate chain to serve HTTPS with (needs --tls-key-file).") var tlsCertFile: String?
    @Option(help: "PEM private key of --tls-cert-file (mode 600: readable by its owner only).") var tlsKeyFile: String?

    func validate() throws { do { _ = try server() } catch { throw ValidationError(error.description) } }
    /// The certificate and key to serve with, or nil for plain HTTP.
    func server() throws(RouterTLSError) -> RouterTLS? { try RouterTLS.load(certificateFile: tlsCertFile, keyFile: tlsKeyFile) }
    var scheme: String { tlsCertFile == nil ? "http" : "https" }
}
