// Reading and writing CURVE key files (`radixserve keygen`, `--curve-secret-key`, `--router-public-key`).
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Key files hold one Z85 key on a line of its own (`#` lines are comments): `NAME.key` the
/// secret key, mode 0600, and `NAME.pub` the public key.
extension CurveKeyPair {
    /// Loads the secret key in `path` and derives its public key.
    /// - Throws: ``CurveKeyError`` naming the file when it is missing or unreadable, readable by
    ///   group or others, not one Z85 key, or when libzmq has no CURVE.
    public static func load(secretKeyFile path: String) throws(CurveKeyError) -> CurveKeyPair {
        try CurveKeyError.requireCurve()
        var status = stat()
        guard stat(path, &status) == 0 else {
            let reason = errno == ENOENT ? "does not exist" : "cannot be read (\(String(cString: strerror(errno))))"
            throw CurveKeyError("secret key file '\(path)' \(reason); create a key pair with `radixserve keygen --out PREFIX`")
        }
        let mode = status.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw CurveKeyError(
                "secret key file '\(path)' is readable by group or others (mode 0\(String(mode, radix: 8))); run chmod 600 '\(path)'")
        }
        let key = try readKey(path, kind: "secret key")
        do {
            return try CurveKeyPair(secretKey: key)
        } catch {
            throw CurveKeyError("secret key file '\(path)': \(error.message)")
        }
    }

    /// A peer's public key: `fileOrKey` itself when it is a 40-character Z85 key and no such file
    /// exists, else the key in that file.
    /// - Throws: ``CurveKeyError`` naming the file when it is missing, unreadable or not one Z85 key.
    public static func loadPublicKey(_ fileOrKey: String) throws(CurveKeyError) -> String {
        try CurveKeyError.requireCurve()
        if isZ85Key(fileOrKey) && !FileManager.default.fileExists(atPath: fileOrKey) { return fileOrKey }
        guard FileManager.default.fileExists(atPath: fileOrKey) else {
            throw CurveKeyError("public key file '\(fileOrKey)' does not exist (give a .pub file or the 40-character Z85 key)")
        }
        return try readKey(fileOrKey, kind: "public key")
    }

    /// Writes `PREFIX.key` (the secret key, mode 0600) and `PREFIX.pub` (the public key).
    /// Refuses to overwrite either file. Returns the two paths.
    /// - Throws: ``CurveKeyError`` when a file exists or cannot be written.
    public func write(prefix: String) throws(CurveKeyError) -> (secretKeyFile: String, publicKeyFile: String) {
        let (secretPath, publicPath) = (prefix + ".key", prefix + ".pub")
        for path in [secretPath, publicPath] where FileManager.default.fileExists(atPath: path) {
            throw CurveKeyError("'\(path)' already exists; remove it or choose another --out")
        }
        try Self.create(secretPath, mode: 0o600, text: "# RadixServe CURVE secret key; keep it private\n\(secretKey)\n")
        try Self.create(publicPath, mode: 0o644, text: "\(publicKey)\n")
        return (secretPath, publicPath)
    }

    /// `radixserve keygen --out PREFIX`: writes a fresh pair (``write(prefix:)``) and returns what
    /// to tell the user.
    public static func generateFiles(prefix: String) throws(CurveKeyError) -> String {
        let keys = try generate()
        let (secret, shared) = try keys.write(prefix: prefix)
        return "wrote \(secret) (secret, keep it private) and \(shared) (public key \(keys.publicKey))\n"
    }

    private static func create(_ path: String, mode: mode_t, text: String) throws(CurveKeyError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard descriptor >= 0 else { throw CurveKeyError("cannot create '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        let written = writeBytes(descriptor, bytes)
        guard written == bytes.count, fchmod(descriptor, mode) == 0 else {
            throw CurveKeyError("cannot write '\(path)': \(String(cString: strerror(errno)))")
        }
    }

    /// The one key line of `path` (blank and `#` lines skipped), checked to be Z85.
    static func readKey(_ path: String, kind: String) throws(CurveKeyError) -> String {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CurveKeyError("\(kind) file '\(path)' cannot be read (\(Self.reason(error)))")
        }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard lines.count == 1, let key = lines.first else {
            throw CurveKeyError("\(kind) file '\(path)' must hold exactly one Z85 key line, found \(lines.count)")
        }
        guard key.utf8.count == 40 else {
            throw CurveKeyError("\(kind) file '\(path)' holds a key of \(key.utf8.count) characters; a Z85 CURVE key has 40")
        }
        guard isZ85Key(key) else { throw CurveKeyError("\(kind) file '\(path)' holds a key that is not valid Z85") }
        return key
    }

    private static func reason(_ error: any Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let underlying, underlying.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(underlying.code))) }
        return (error as NSError).localizedDescription
    }
}

/// `write(2)` outside the extension, whose own `write(prefix:)` would shadow it.
private func writeBytes(_ descriptor: Int32, _ bytes: [UInt8]) -> Int {
    bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
}
