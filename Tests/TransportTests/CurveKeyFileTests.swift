import Foundation
import Testing
import Transport

/// `radixserve keygen`'s files, loading them back, and every way a key file can be unusable.
@Suite struct CurveKeyFileTests {
    let directory: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rxs-keys-\(UUID().uuidString.prefix(8))").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    func write(_ name: String, _ text: String, mode: Int = 0o600) -> String {
        let path = "\(directory)/\(name)"
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
        return path
    }

    @Test func writtenKeyPairLoadsBackWithItsPublicKey() throws {
        try #require(ZMQ.hasCurve)
        let keys = try CurveKeyPair.generate()
        let (secret, shared) = try keys.write(prefix: "\(directory)/router")
        let mode = try FileManager.default.attributesOfItem(atPath: secret)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try CurveKeyPair.load(secretKeyFile: secret) == keys)
        #expect(try CurveKeyPair.loadPublicKey(shared) == keys.publicKey)
        #expect(try CurveKeyPair.loadPublicKey(keys.publicKey) == keys.publicKey)
        #expect(try CurveKeyPair(secretKey: keys.secretKey).publicKey == keys.publicKey)
        #expect(throws: CurveKeyError("'\(secret)' already exists; remove it or choose another --out")) {
            try keys.write(prefix: "\(directory)/router")
        }
    }

    @Test func unusableSecretKeyFilesSayWhy() throws {
        try #require(ZMQ.hasCurve)
        let key = try CurveKeyPair.generate().secretKey
        let missing = "\(directory)/missing.key"
        #expect(throws: CurveKeyError(
            "secret key file '\(missing)' does not exist; create a key pair with `radixserve keygen --out PREFIX`")) {
            try CurveKeyPair.load(secretKeyFile: missing)
        }
        let open = write("open.key", key + "\n", mode: 0o644)
        #expect(throws: CurveKeyError(
            "secret key file '\(open)' is readable by group or others (mode 0644); run chmod 600 '\(open)'")) {
            try CurveKeyPair.load(secretKeyFile: open)
        }
        let short = write("short.key", String(key.prefix(39)) + "\n")
        #expect(throws: CurveKeyError("secret key file '\(short)' holds a key of 39 characters; a Z85 CURVE key has 40")) {
            try CurveKeyPair.load(secretKeyFile: short)
        }
        let notZ85 = write("bad.key", String(repeating: "~", count: 40))
        #expect(throws: CurveKeyError("secret key file '\(notZ85)' holds a key that is not valid Z85")) {
            try CurveKeyPair.load(secretKeyFile: notZ85)
        }
        let two = write("two.key", key + "\n" + key + "\n")
        #expect(throws: CurveKeyError("secret key file '\(two)' must hold exactly one Z85 key line, found 2")) {
            try CurveKeyPair.load(secretKeyFile: two)
        }
        #expect(throws: CurveKeyError(
            "public key file '\(missing)' does not exist (give a .pub file or the 40-character Z85 key)")) {
            try CurveKeyPair.loadPublicKey(missing)
        }
    }

    @Test func allowlistsReadFilesAndDirectories() throws {
        try #require(ZMQ.hasCurve)
        let (first, second) = (try CurveKeyPair.generate(), try CurveKeyPair.generate())
        let file = write("workers", "# the fleet\n\(first.publicKey) gpu-a\n\n\(second.publicKey)\n")
        let list = try CurveAllowlist.load(file)
        #expect(list.names == [first.publicKey: "gpu-a", second.publicKey: "key-4"])
        try FileManager.default.createDirectory(atPath: "\(directory)/keys", withIntermediateDirectories: true)
        _ = try first.write(prefix: "\(directory)/keys/w1")
        #expect(try CurveAllowlist.load("\(directory)/keys").names == [first.publicKey: "w1"])
        let bad = write("bad-list", "\(first.publicKey)\nnot-a-key name\n")
        #expect(throws: CurveKeyError(
            "authorized keys file '\(bad)' line 2: 'not-a-key' is not a Z85 CURVE public key (40 characters)")) {
            try CurveAllowlist.load(bad)
        }
        let empty = write("empty-list", "# nobody\n")
        #expect(throws: CurveKeyError("authorized keys '\(empty)' lists no key")) { try CurveAllowlist.load(empty) }
    }

    @Test func loopbackEndpointsAreLocal() {
        for local in ["tcp://127.0.0.1:5557", "tcp://127.3.0.9:*", "tcp://localhost:1", "tcp://[::1]:5", "ipc:///tmp/x"] {
            #expect(EndpointExposure.isLocal(local), "\(local)")
        }
        for exposed in ["tcp://*:5557", "tcp://0.0.0.0:5557", "tcp://10.0.0.2:9", "tcp://[::]:5", "tcp://eth0:5", "tcp://128.0.0.1:1"] {
            #expect(!EndpointExposure.isLocal(exposed), "\(exposed)")
        }
        #expect(EndpointExposure.check("tcp://*:1", flag: "--x", hasCurve: true, insecure: false) == nil)
        #expect(EndpointExposure.check("tcp://*:1", flag: "--x", hasCurve: false, insecure: false)?.refusal != nil)
        #expect(EndpointExposure.check("tcp://*:1", flag: "--x", hasCurve: false, insecure: true)?.warning != nil)
    }
}
