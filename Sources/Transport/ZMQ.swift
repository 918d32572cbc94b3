// Library-level facts about the linked libzmq.
import CZeroMQ

/// Namespace for process-wide libzmq queries. All members are thread-safe.
public enum ZMQ {
    /// The linked libzmq version, e.g. `(4, 3, 4)`.
    public static var version: (major: Int, minor: Int, patch: Int) {
        var major: Int32 = 0
        var minor: Int32 = 0
        var patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (Int(major), Int(minor), Int(patch))
    }

    /// Whether libzmq was built with CURVE security (libsodium or tweetnacl).
    public static var hasCurve: Bool { zmq_has("curve") != 0 }

    /// Whether libzmq supports the given transport or feature (`"ipc"`, `"curve"`, `"draft"`, …).
    public static func has(_ capability: String) -> Bool { zmq_has(capability) != 0 }

    /// Generates a fresh CURVE key pair. Throws when libzmq has no CURVE support.
    public static func curveKeyPair() throws -> CurveKeyPair { try CurveKeyPair.generate() }
}
