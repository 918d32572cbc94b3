import Backends
import Foundation
import Models
import Testing
import TestSupport

/// The model fingerprint as docs/WIRE_PROTOCOL.md ("Model fingerprint") defines it, byte for byte.
@Suite struct ModelFingerprintTests {
    /// The documented layout, written out here independently of ``ModelFingerprint``: FNV-1a 64
    /// over config.json's bytes, then `name:dtype:[d0, d1];` per tensor in byte order of the names;
    /// lowercase hex without leading zeros.
    static func documentedFingerprint(of directory: URL) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent("config.json")))
        let checkpoint = try Checkpoint(directory: directory)
        let names = checkpoint.tensorNames.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        for name in names {
            let tensor = try checkpoint.tensor(name, shape: nil)
            let shape = tensor.shape.map(String.init).joined(separator: ", ")
            bytes += Array("\(name):\(tensor.dtype.rawValue.lowercased()):[\(shape)];".utf8)
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return String(hash, radix: 16)
    }

    @Test func demoModelFingerprintIsThePublishedVector() throws {
        let directory = Fixtures.demoModel
        let fingerprint = try ModelFingerprint.compute(directory: directory, checkpoint: Checkpoint(directory: directory))
        #expect(fingerprint == "d6eba23b1b75d4e6")
    }

    @Test(arguments: ["demo", "llama-sharded", "llama-linear-bf16", "mistral-mqa-f16"])
    func fingerprintFollowsTheDocumentedLayout(model: String) throws {
        let directory = Fixtures.model(model)
        let fingerprint = try ModelFingerprint.compute(directory: directory, checkpoint: Checkpoint(directory: directory))
        #expect(fingerprint == (try Self.documentedFingerprint(of: directory)))
    }
}
