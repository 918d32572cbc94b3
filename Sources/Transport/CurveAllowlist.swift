// The public keys a CURVE server admits (`--authorized-keys`).
import Foundation

/// CURVE public keys allowed to connect, each with a name for logs and the ZAP user id.
///
/// Read from a file with one `KEY [NAME]` per line (blank lines and `#` comments skipped; the
/// name defaults to `key-<line>`), or from a directory of `*.pub` files (each holding one key, named
/// after the file without `.pub`), as `radixserve keygen` writes them.
public struct CurveAllowlist: Sendable, Equatable {
    /// Name by Z85 public key.
    public private(set) var names: [String: String]
    /// Where the keys were read from, for messages.
    public var source: String

    /// An allowlist of `names` (Z85 key → name).
    public init(names: [String: String], source: String = "the allowlist") {
        self.names = names
        self.source = source
    }

    /// Whether `publicKey` (Z85) is listed.
    public func contains(_ publicKey: String) -> Bool { names[publicKey] != nil }

    /// Reads a key file or a directory of `*.pub` files.
    /// - Throws: ``CurveKeyError`` naming the path (and line) that is missing, unreadable, not Z85,
    ///   or when no key is listed at all.
    public static func load(_ path: String) throws(CurveKeyError) -> CurveAllowlist {
        try CurveKeyError.requireCurve()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CurveKeyError("authorized keys '\(path)' does not exist (give a file of 'KEY [NAME]' lines or a directory of .pub files)")
        }
        var names: [String: String] = [:]
        if isDirectory.boolValue {
            let entries: [String]
            do { entries = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
                throw CurveKeyError("authorized keys directory '\(path)' cannot be read")
            }
            for entry in entries.sorted() where entry.hasSuffix(".pub") {
                let key = try CurveKeyPair.readKey((path as NSString).appendingPathComponent(entry), kind: "public key")
                names[key] = String(entry.dropLast(".pub".count))
            }
        } else {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw CurveKeyError("authorized keys file '\(path)' cannot be read")
            }
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let fields = line.split(whereSeparator: \.isWhitespace)
                guard let key = fields.first.map(String.init), !key.hasPrefix("#") else { continue }
                guard CurveKeyPair.isZ85Key(key) else {
                    throw CurveKeyError(
                        "authorized keys file '\(path)' line \(index + 1): '\(key.prefix(48))' is not a Z85 CURVE public key (40 characters)")
                }
                names[key] = fields.count > 1 ? fields.dropFirst().joined(separator: " ") : "key-\(index + 1)"
            }
        }
        guard !names.isEmpty else { throw CurveKeyError("authorized keys '\(path)' lists no key") }
        return CurveAllowlist(names: names, source: path)
    }
}
