// Z85-encoded CURVE keys.

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
}
