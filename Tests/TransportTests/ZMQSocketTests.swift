import CZeroMQ
import Foundation
import Testing
import Transport

@Suite struct ZMQSocketTests {
    private func uniqueIPC() -> String { "ipc:///tmp/rxs-transport-\(UUID().uuidString.prefix(13))" }

    @Test(arguments: ["tcp://127.0.0.1:*", "ipc://*", "inproc://pair-test"])
    func multipartRoundTripOverEveryTransport(pattern: String) throws {
        let context = try ZMQContext()
        let server = try ZMQSocket(.pair, context: context)
        let client = try ZMQSocket(.pair, context: context)
        let endpoint = try server.bind(pattern)
        #expect(!endpoint.contains("*"), "wildcard resolved: \(endpoint)")
        defer {
            // `ipc://*` binds in a fresh directory that ZeroMQ leaves behind (in the working
            // directory when TMPDIR is unset).
            if pattern == "ipc://*" {
                server.close()
                client.close()
                try? FileManager.default.removeItem(
                    atPath: (String(endpoint.dropFirst("ipc://".count)) as NSString).deletingLastPathComponent)
            }
        }
        try client.connect(endpoint)
        try client.send([[1, 2, 3], [], Array(repeating: 7, count: 100_000)], timeout: .seconds(2))
        let frames = try server.receive(timeout: .seconds(2))
        #expect(frames.map(\.count) == [3, 0, 100_000])
        #expect(frames[0] == [1, 2, 3])
    }

    @Test func receiveIntoBufferReportsSizeAndTruncation() throws {
        let context = try ZMQContext()
        let (server, client) = try connectedPair(context)
        let floats: [Float] = [1, 2, 3, 4]
        try floats.withUnsafeBytes { try client.send($0, hasMore: true) }
        try client.send([9, 9, 9, 9, 9, 9, 9, 9, 9])
        var received = [Float](repeating: 0, count: 4)
        let first = try received.withUnsafeMutableBytes { try server.receive(into: $0, timeout: .seconds(2)) }
        #expect(first == ZMQFrameInfo(byteCount: 16, hasMore: true))
        #expect(received == floats)
        var small = [UInt8](repeating: 0, count: 4)
        let second = try small.withUnsafeMutableBytes { try server.receive(into: $0, timeout: .seconds(2)) }
        #expect(second == ZMQFrameInfo(byteCount: 9, hasMore: false))
        #expect(small == [9, 9, 9, 9])
    }

    @Test func withReceivedFrameLendsBytesWithoutCopy() throws {
        let context = try ZMQContext()
        let (server, client) = try connectedPair(context)
        try client.send([5, 6, 7])
        let sum = try server.withReceivedFrame(timeout: .seconds(2)) { bytes, hasMore in
            #expect(!hasMore)
            return bytes.reduce(0) { $0 + Int($1) }
        }
        #expect(sum == 18)
    }

    @Test func receiveTimeoutIsReportedAsTimeout() throws {
        let context = try ZMQContext()
        let (server, _) = try connectedPair(context)
        let start = ContinuousClock.now
        let error = #expect(throws: TransportError.self) { _ = try server.receive(timeout: .milliseconds(100)) }
        let elapsed = ContinuousClock.now - start
        #expect(error?.code == .timeout)
        #expect(error?.errorNumber == EAGAIN)
        #expect(elapsed >= .milliseconds(90) && elapsed < .seconds(1))
        server.setDefaultTimeouts(send: nil, receive: .zero)
        #expect(throws: TransportError(code: .timeout, message: "")) { _ = try server.receiveFrame() }
    }

    @Test func routerMandatoryReportsUnroutablePeers() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(.router, context: context)
        try router.setRouterMandatory(true)
        try router.bind("tcp://127.0.0.1:*")
        let error = #expect(throws: TransportError.self) { try router.send([[1, 2], [3]], timeout: .zero) }
        #expect(error?.code == .unroutable)
    }

    @Test func routerDealerRoutesByIdentity() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(.router, context: context)
        let endpoint = try router.bind(uniqueIPC())
        let dealer = try ZMQSocket(.dealer, context: context)
        try dealer.setRoutingID(Array("worker-1".utf8))
        try dealer.connect(endpoint)
        try dealer.send([[42]], timeout: .seconds(1))
        let request = try router.receive(timeout: .seconds(2))
        #expect(request == [Array("worker-1".utf8), [42]])
        try router.send([request[0], [43]], timeout: .seconds(1))
        #expect(try dealer.receive(timeout: .seconds(2)) == [[43]])
    }

    @Test func pushPullAndPubSubDeliver() throws {
        let context = try ZMQContext()
        let pull = try ZMQSocket(.pull, context: context)
        let push = try ZMQSocket(.push, context: context)
        try push.connect(try pull.bind("inproc://push-pull"))
        try push.send([1])
        #expect(try pull.receive(timeout: .seconds(2)) == [[1]])

        let publisher = try ZMQSocket(.publisher, context: context)
        let subscriber = try ZMQSocket(.subscriber, context: context)
        try subscriber.subscribe(Array("kv".utf8))
        try subscriber.connect(try publisher.bind("inproc://pub-sub"))
        Thread.sleep(forTimeInterval: 0.05)  // slow-joiner: subscription must reach the publisher
        try publisher.send([Array("other".utf8)])
        try publisher.send([Array("kv.stored".utf8)])
        #expect(try subscriber.receive(timeout: .seconds(2)) == [Array("kv.stored".utf8)])
    }

    @Test func maxMessageSizeDropsOversizedFrames() throws {
        let context = try ZMQContext()
        let server = try ZMQSocket(.pull, context: context)
        try server.setMaxMessageSize(1024)
        let endpoint = try server.bind("tcp://127.0.0.1:*")
        let client = try ZMQSocket(.push, context: context)
        try client.connect(endpoint)
        try client.send([UInt8](repeating: 1, count: 4096), timeout: .seconds(1))
        #expect(throws: TransportError.self) { _ = try server.receive(timeout: .milliseconds(200)) }
    }

    @Test func typedSettersReachLibzmq() throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(.dealer, context: context)
        try socket.setSendHighWaterMark(10)
        try socket.setReceiveHighWaterMark(12)
        try socket.setImmediate(true)
        try socket.setTCPKeepAlive(idle: .seconds(30), interval: .seconds(5), probeCount: 3)
        try socket.setHeartbeat(interval: .seconds(1), timeout: .seconds(3))
        try socket.setReconnectInterval(.milliseconds(50))
        #expect(try socket.option(ZMQ_SNDHWM) == 10)
        #expect(try socket.option(ZMQ_RCVHWM) == 12)
        #expect(try socket.option(ZMQ_IMMEDIATE) == 1)
        #expect(try socket.option(ZMQ_TCP_KEEPALIVE) == 1)
        #expect(try socket.option(ZMQ_TCP_KEEPALIVE_IDLE) == 30)
        #expect(try socket.option(ZMQ_TCP_KEEPALIVE_INTVL) == 5)
        #expect(try socket.option(ZMQ_TCP_KEEPALIVE_CNT) == 3)
        #expect(try socket.option(ZMQ_HEARTBEAT_IVL) == 1_000)
        #expect(try socket.option(ZMQ_HEARTBEAT_TIMEOUT) == 3_000)
        #expect(try socket.option(ZMQ_RECONNECT_IVL) == 50)
        socket.close()
        #expect(throws: TransportError.self) { _ = try socket.option(ZMQ_SNDHWM) }
    }

    @Test func closedSocketAndBadEndpointsThrow() throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(.pair, context: context)
        #expect(throws: TransportError(code: .invalidEndpoint, message: "")) { try socket.bind("nonsense://x") }
        socket.close()
        #expect(socket.isClosed)
        #expect(throws: TransportError(code: .invalidState, message: "")) { try socket.send([1]) }
    }

    @Test func contextShutdownUnblocksReceivers() throws {
        let context = try ZMQContext()
        let (server, _) = try connectedPair(context)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) { context.shutdown() }
        let error = #expect(throws: TransportError.self) { _ = try server.receive(timeout: .seconds(5)) }
        #expect(error?.code == .contextTerminated)
    }

    private func connectedPair(_ context: ZMQContext) throws -> (ZMQSocket, ZMQSocket) {
        let server = try ZMQSocket(.pair, context: context)
        let client = try ZMQSocket(.pair, context: context)
        try client.connect(try server.bind(uniqueIPC()))
        return (server, client)
    }
}
