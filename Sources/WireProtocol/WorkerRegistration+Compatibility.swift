// The handshake check a router runs on `register`.

extension WorkerRegistration {
    /// Why a router expecting `modelFingerprint`, `pageSize` and `hashSeed` must refuse this
    /// worker, naming both values of every mismatch; `nil` when compatible. The reason is meant
    /// for a `refused` message and both sides' logs.
    public func incompatibility(
        modelFingerprint expectedFingerprint: String, pageSize expectedPageSize: UInt32, hashSeed expectedSeed: UInt64,
        protocolRevision expectedRevision: UInt32 = WorkerMessageLimits.protocolRevision
    ) -> String? {
        var problems: [String] = []
        if protocolRevision != expectedRevision {
            problems.append("worker speaks router ⇄ worker revision \(protocolRevision), the router \(expectedRevision)")
        }
        if modelFingerprint != expectedFingerprint {
            problems.append("worker serves model fingerprint \(modelFingerprint) (\(modelID)), the router expects \(expectedFingerprint)")
        }
        if pageSize != expectedPageSize {
            problems.append("worker page size is \(pageSize), the router's is \(expectedPageSize)")
        }
        if hashSeed != expectedSeed {
            problems.append("worker hash seed is \(hashSeed), the router's is \(expectedSeed)")
        }
        return problems.isEmpty ? nil : "worker \(workerID) refused: " + problems.joined(separator: "; ")
    }
}
