// What ranks compare to be sure they loaded the same checkpoint.

import Foundation

/// A 64-bit FNV-1a hash of `config.json` and every tensor's name, dtype and shape, in hex.
/// Cheap (no weight bytes are read) and enough to catch a rank pointed at another model.
public enum ModelFingerprint {
    /// The fingerprint of the checkpoint in `directory`.
    public static func compute(directory: URL, checkpoint: Checkpoint) throws -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix<S: Sequence<UInt8>>(_ bytes: S) {
            for byte in bytes {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        mix(try Data(contentsOf: directory.appendingPathComponent("config.json")))
        for name in checkpoint.tensorNames.sorted() {
            let tensor = try checkpoint.tensor(name, shape: nil)
            mix("\(name):\(tensor.dtype):\(tensor.shape);".utf8)
        }
        return String(hash, radix: 16)
    }
}
