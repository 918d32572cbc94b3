import Foundation

extension Fixtures {
    /// The path of TLS fixture `name` in `Tests/Fixtures/tls` (made by
    /// `scripts/fixtures/make_tls_certs.sh`): `ca.pem`, `server.pem` (127.0.0.1 and localhost,
    /// signed by `ca.pem`), `server.key`, `other-ca.pem` (an unrelated CA), `other.key` (a key
    /// that does not match `server.pem`).
    public static func tls(_ name: String) -> String {
        root.appendingPathComponent("tls/\(name)").path
    }

    /// A copy of the private key fixture `name` with mode 600 in a fresh temporary directory, as the
    /// router requires: git checks the committed key out readable by every user.
    public static func privateTLSKey(_ name: String = "server.key") throws -> String {
        let path = try temporaryDirectory().appendingPathComponent(name).path
        try FileManager.default.copyItem(atPath: tls(name), toPath: path)
        guard chmod(path, 0o600) == 0 else { throw CocoaError(.fileWriteNoPermission) }
        return path
    }
}
