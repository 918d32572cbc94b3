@testable import Collectives
import Testing

/// Rendezvous messages of every version encode as that version lays them out, so what decodes
/// re-encodes to the same message (an older peer's join is read, then refused by version).
struct BootstrapMessageTests {
    @Test(arguments: [2, 3] as [UInt32])
    func joinsAndWelcomesRoundTripInTheirOwnVersion(version: UInt32) throws {
        let key = version >= 3 ? "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7" : ""
        let join = BootstrapMessage.join(.init(
            version: version, rank: 1, worldSize: 3, fingerprint: "model-a tp=3", endpoints: ["ipc:///tmp/a-1-2"], dataKey: key))
        #expect(try BootstrapMessage.decode(join.encoded()) == join)
        let welcome = BootstrapMessage.welcome(
            version: version, endpoints: [["ipc:///tmp/a-0-1", "ipc:///tmp/a-0-2"], ["ipc:///tmp/a-1-2"], []],
            dataKeys: version >= 3 ? [key, key, key] : [])
        #expect(try BootstrapMessage.decode(welcome.encoded()) == welcome)
    }

    /// The fuzzer's input: a version-2 join, which decoded without a data key but was re-encoded with one.
    @Test func theVersion2JoinTheFuzzerFoundRoundTrips() throws {
        let bytes: [UInt8] = Array("RXCB".utf8) + [1, 2, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 12, 0, 0, 0] + Array("model-a tp=3".utf8)
            + [1, 0, 0, 0, 16, 0, 0, 0] + Array("ipc:///tmp/a-1-2".utf8)
        let message = try BootstrapMessage.decode(bytes)
        #expect(message.encoded() == bytes)
    }
}
