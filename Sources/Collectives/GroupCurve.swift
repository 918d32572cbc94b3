// CURVE keys of a socket group (tensor-parallel leader and ranks).
import Transport

/// How a group's sockets are encrypted and who may join (docs/WIRE_PROTOCOL.md, "Transport").
///
/// - Rendezvous: rank 0 is the CURVE server with ``keyPair``; a ZAP handler in rank 0's context
///   admits only ``authorizedKeys``. Ranks > 0 are clients with their ``keyPair`` and
///   ``leaderPublicKey``.
/// - Data sockets: each rank binds its sockets as a CURVE server with a fresh key pair made for
///   this group, whose public key it sends in its (encrypted) join; rank 0 hands every rank's
///   key to everyone in the welcome. Connecting ranks are clients with their ``keyPair``; rank 0's
///   sockets also pass them through its allowlist, and the other ranks admit only a client that
///   learned their fresh key from the rendezvous.
public struct GroupCurve: Sendable {
    /// This rank's long-term key pair.
    public var keyPair: CurveKeyPair
    /// Ranks > 0: rank 0's public key.
    public var leaderPublicKey: String?
    /// Rank 0: the public keys of the ranks it admits.
    public var authorizedKeys: CurveAllowlist?
    /// Rank 0: told about each refused connection (address, key, why).
    public var onRefusal: @Sendable (ZAPAuthenticator.Refusal) -> Void

    /// Rank 0's settings.
    public static func leader(
        keyPair: CurveKeyPair, authorizedKeys: CurveAllowlist,
        onRefusal: @escaping @Sendable (ZAPAuthenticator.Refusal) -> Void = { _ in }
    ) -> GroupCurve {
        GroupCurve(keyPair: keyPair, leaderPublicKey: nil, authorizedKeys: authorizedKeys, onRefusal: onRefusal)
    }

    /// The settings of a rank > 0.
    public static func follower(keyPair: CurveKeyPair, leaderPublicKey: String) -> GroupCurve {
        GroupCurve(keyPair: keyPair, leaderPublicKey: leaderPublicKey, authorizedKeys: nil, onRefusal: { _ in })
    }
}
