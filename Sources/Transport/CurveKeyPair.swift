// Z85-encoded CURVE keys.
import CZeroMQ

/// A CURVE key pair in Z85 text form (40 characters each).
public struct CurveKeyPair: Hashable, Sendable {
    /// The public key, shareable with peers.
    public var publicKey: String
    /// The secret key; keep it out of logs.
    public var secretKey: String

    /// Wraps existing Z85 keys.
    public init(publicKey: String, secretKey: String) {
        precondition(publicKey.utf8.count == 40 && secretKey.utf8.count == 40, "Z85 CURVE keys are 40 characters")
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// The pair of a Z85 secret key, its public key derived by libzmq (`zmq_curve_public`).
    /// - Throws: ``CurveKeyError`` when libzmq has no CURVE or `secretKey` is not a Z85 key.
    public init(secretKey: String) throws(CurveKeyError) {
        try CurveKeyError.requireCurve()
        guard CurveKeyPair.isZ85Key(secretKey) else { throw CurveKeyError("not a Z85 CURVE secret key (40 characters)") }
        var publicKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&publicKey, secretKey) == 0 else { throw CurveKeyError("zmq_curve_public refused the secret key") }
        self.init(publicKey: String(cString: publicKey), secretKey: secretKey)
    }

    /// A fresh random key pair (`zmq_curve_keypair`).
    /// - Throws: ``CurveKeyError`` when libzmq has no CURVE.
    public static func generate() throws(CurveKeyError) -> CurveKeyPair {
        try CurveKeyError.requireCurve()
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else { throw CurveKeyError("zmq_curve_keypair failed") }
        return CurveKeyPair(publicKey: String(cString: publicKey), secretKey: String(cString: secretKey))
    }

    /// Whether `text` is a 40-character Z85 string that decodes to a 32-byte key.
    public static func isZ85Key(_ text: String) -> Bool {
        guard text.utf8.count == 40, text.utf8.allSatisfy({ z85Alphabet.contains($0) }) else { return false }
        var bytes = [UInt8](repeating: 0, count: 32)
        return zmq_z85_decode(&bytes, text) != nil
    }

    /// The Z85 text of a 32-byte binary key (as ZAP hands credentials over).
    public static func z85(_ key: some Collection<UInt8>) -> String? {
        guard key.count == 32 else { return nil }
        var text = [CChar](repeating: 0, count: 41)
        let bytes = Array(key)
        guard zmq_z85_encode(&text, bytes, 32) != nil else { return nil }
        return String(cString: text)
    }

    private static let z85Alphabet = Set(
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)
}

/// A CURVE key or key file that cannot be used; the message names the file and what to do.
public struct CurveKeyError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong, e.g. `secret key file 'w.key' is readable by group or others (mode 0644); run chmod 600 'w.key'`.
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// Throws unless the linked libzmq has CURVE (`zmq_has("curve")`).
    public static func requireCurve() throws(CurveKeyError) {
        guard ZMQ.hasCurve else {
            throw CurveKeyError("this libzmq was built without CURVE support (zmq_has(\"curve\") is false); install a libzmq built with libsodium")
        }
    }
}
