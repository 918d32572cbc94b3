import Testing
import Transport

@Suite struct CurveTests {
    @Test func keyPairsAreZ85AndDistinct() throws {
        try #require(ZMQ.hasCurve)
        let first = try ZMQ.curveKeyPair()
        let second = try ZMQ.curveKeyPair()
        #expect(first.publicKey.utf8.count == 40 && first.secretKey.utf8.count == 40)
        #expect(first != second)
    }

    @Test func curveRoundTripAndWrongServerKeyFails() throws {
        try #require(ZMQ.hasCurve)
        let context = try ZMQContext()
        let serverKeys = try ZMQ.curveKeyPair()
        let server = try ZMQSocket(.pair, context: context)
        try server.setCurveServer(secretKey: serverKeys.secretKey)
        let endpoint = try server.bind("tcp://127.0.0.1:*")

        let client = try ZMQSocket(.pair, context: context)
        try client.setCurveClient(serverPublicKey: serverKeys.publicKey, keyPair: try ZMQ.curveKeyPair())
        try client.connect(endpoint)
        try client.send([1, 2, 3], timeout: .seconds(2))
        #expect(try server.receive(timeout: .seconds(2)) == [[1, 2, 3]])

        let impostor = try ZMQSocket(.pair, context: context)
        let otherServer = try ZMQSocket(.pair, context: context)
        try otherServer.setCurveServer(secretKey: serverKeys.secretKey)
        let otherEndpoint = try otherServer.bind("tcp://127.0.0.1:*")
        try impostor.setCurveClient(serverPublicKey: try ZMQ.curveKeyPair().publicKey, keyPair: try ZMQ.curveKeyPair())
        try impostor.connect(otherEndpoint)
        try impostor.send([9], timeout: .seconds(1))
        #expect(throws: TransportError.self) { _ = try otherServer.receive(timeout: .milliseconds(300)) }
    }

    @Test func versionIsFourPointSomething() {
        #expect(ZMQ.version.major == 4)
        #expect(ZMQ.has("ipc"))
    }
}
