import Foundation
import Synchronization
import Testing
import Transport

/// A real CURVE ROUTER with the ZAP allowlist, and DEALER clients with listed and unlisted keys.
@Suite struct ZAPAuthenticatorTests {
    @Test func listedClientIsAdmittedAndUnlistedOneRefused() throws {
        try #require(ZMQ.hasCurve)
        let (serverKeys, listed, unlisted) = (try CurveKeyPair.generate(), try CurveKeyPair.generate(), try CurveKeyPair.generate())
        let context = try ZMQContext()
        let refusals = Mutex<[ZAPAuthenticator.Refusal]>([])
        let authenticator = try ZAPAuthenticator(
            context: context, allowlist: CurveAllowlist(names: [listed.publicKey: "good"], source: "the test list")
        ) { refusal in refusals.withLock { $0.append(refusal) } }
        defer { authenticator.stop() }
        #expect(throws: TransportError.self) {  // one handler per context
            _ = try ZAPAuthenticator(context: context, allowlist: CurveAllowlist(names: [:])) { _ in }
        }

        let server = try ZMQSocket(.router, context: context)
        try server.setCurveServer(secretKey: serverKeys.secretKey)
        let endpoint = try server.bind("tcp://127.0.0.1:*")

        let stranger = try ZMQSocket(.dealer, context: context)
        try stranger.setCurveClient(serverPublicKey: serverKeys.publicKey, keyPair: unlisted)
        try stranger.connect(endpoint)
        try stranger.send([Array("let me in".utf8)], timeout: .seconds(1))

        let friend = try ZMQSocket(.dealer, context: context)
        try friend.setCurveClient(serverPublicKey: serverKeys.publicKey, keyPair: listed)
        try friend.connect(endpoint)
        try friend.send([Array("hello".utf8)], timeout: .seconds(2))

        let frames = try server.receive(timeout: .seconds(3))
        #expect(frames.last == Array("hello".utf8))
        #expect(throws: TransportError.self) { _ = try server.receive(timeout: .milliseconds(500)) }
        let seen = refusals.withLock { $0 }
        #expect(seen.count == 1)  // reported once however often the stranger retries
        #expect(seen.first?.publicKey == unlisted.publicKey)
        #expect(seen.first?.address == "127.0.0.1")
        #expect(seen.first?.reason == "its CURVE public key is not in the test list")
    }

    @Test func serverThatConnectsStillAuthenticatesItsClients() throws {
        // The router dials workers that listen (`worker --listen`): the CURVE roles stay with the sockets.
        try #require(ZMQ.hasCurve)
        let (serverKeys, listed, unlisted) = (try CurveKeyPair.generate(), try CurveKeyPair.generate(), try CurveKeyPair.generate())
        let context = try ZMQContext()
        let authenticator = try ZAPAuthenticator(
            context: context, allowlist: CurveAllowlist(names: [listed.publicKey: "good"])) { _ in }
        defer { authenticator.stop() }
        let clientContext = try ZMQContext()
        var endpoints: [String] = []
        var clients: [ZMQSocket] = []
        for keys in [listed, unlisted] {
            let client = try ZMQSocket(.dealer, context: clientContext)
            try client.setCurveClient(serverPublicKey: serverKeys.publicKey, keyPair: keys)
            endpoints.append(try client.bind("tcp://127.0.0.1:*"))
            clients.append(client)
        }
        let server = try ZMQSocket(.router, context: context)
        try server.setCurveServer(secretKey: serverKeys.secretKey)
        for endpoint in endpoints { try server.connect(endpoint) }
        _ = try? clients[1].send([[2]], timeout: .milliseconds(500))  // no pipe ever forms: the handshake fails
        try clients[0].send([[1]], timeout: .seconds(2))
        #expect(try server.receive(timeout: .seconds(3)).last == [1])
        #expect(throws: TransportError.self) { _ = try server.receive(timeout: .milliseconds(500)) }
    }
}
