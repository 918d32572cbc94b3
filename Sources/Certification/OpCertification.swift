// RadixServe: every op the device claims against the reference device (scaffold, being written).

import Backends

enum OpCertification {
    static func checks(
        device: any ComputeDevice, reference: any ComputeDevice, isFull: Bool, progress: @Sendable (String) -> Void
    ) throws -> [CertificationCheck] {
        []
    }
}
