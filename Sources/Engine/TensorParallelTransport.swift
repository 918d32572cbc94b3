// RadixServe: CURVE keys and listener exposure of a tensor-parallel group, from the command's flags.

import Collectives
import Logging
import Transport

/// The flags of a group's transport, checked and loaded before anything starts.
public enum TensorParallelTransport {
    /// Rank 0 (`worker`/`generate`): `--tp-curve-secret-key` and `--tp-authorized-keys` (both or
    /// neither; only with `--tp-endpoint`), and the exposure rule applied to `--tp-endpoint` and
    /// `--tp-data-endpoint`. Returns the CURVE settings (nil: plain) and the warnings to print.
    /// - Throws: ``CurveKeyError`` with the key file's problem or the exposure refusal.
    public static func leader(
        endpoint: String?, dataEndpoint: String?, curveSecretKey: String?, authorizedKeys: String?, insecure: Bool
    ) throws(CurveKeyError) -> (curve: GroupCurve?, warnings: [String]) {
        var curve: GroupCurve?
        switch (curveSecretKey, authorizedKeys) {
        case (let secret?, let authorized?):
            guard endpoint != nil else {
                throw CurveKeyError("--tp-curve-secret-key applies to ranks started by hand (--tp-endpoint); spawned ranks use ipc:// on this host")
            }
            let logger = Logger(label: "radixserve.tp")
            curve = .leader(keyPair: try .load(secretKeyFile: secret), authorizedKeys: try .load(authorized)) { refusal in
                logger.warning(
                    "refused a rank connection from \(refusal.address): \(refusal.reason) (key \(refusal.publicKey ?? "none"))")
            }
        case (nil, nil):
            break
        default:
            throw CurveKeyError("--tp-curve-secret-key and --tp-authorized-keys go together")
        }
        let warnings = try exposure([("--tp-endpoint", endpoint), ("--tp-data-endpoint", dataEndpoint)], curve: curve, insecure: insecure)
        return (curve, warnings)
    }

    /// A rank > 0 (`rank`): `--curve-secret-key` and `--leader-public-key` (both or neither), and
    /// the exposure rule applied to `--data-endpoint`.
    /// - Throws: ``CurveKeyError`` with the key file's problem or the exposure refusal.
    public static func follower(
        dataEndpoint: String?, curveSecretKey: String?, leaderPublicKey: String?, insecure: Bool
    ) throws(CurveKeyError) -> (curve: GroupCurve?, warnings: [String]) {
        var curve: GroupCurve?
        switch (curveSecretKey, leaderPublicKey) {
        case (let secret?, let leader?):
            curve = .follower(keyPair: try .load(secretKeyFile: secret), leaderPublicKey: try CurveKeyPair.loadPublicKey(leader))
        case (nil, nil):
            break
        default:
            throw CurveKeyError("--curve-secret-key and --leader-public-key go together")
        }
        return (curve, try exposure([("--data-endpoint", dataEndpoint)], curve: curve, insecure: insecure))
    }

    private static func exposure(
        _ endpoints: [(flag: String, endpoint: String?)], curve: GroupCurve?, insecure: Bool
    ) throws(CurveKeyError) -> [String] {
        var warnings: [String] = []
        for case let (flag, endpoint?) in endpoints {
            guard let check = EndpointExposure.check(endpoint, flag: flag, hasCurve: curve != nil, insecure: insecure) else { continue }
            if let refusal = check.refusal { throw CurveKeyError(refusal) }
            warnings += check.warning.map { [$0] } ?? []
        }
        return warnings
    }
}
