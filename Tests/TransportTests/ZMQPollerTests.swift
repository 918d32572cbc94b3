import Foundation
import Testing
import Transport

@Suite struct ZMQPollerTests {
    @Test func pollReportsWhichSocketIsReadable() throws {
        let context = try ZMQContext()
        let first = try ZMQSocket(.pull, context: context)
        let second = try ZMQSocket(.pull, context: context)
        let pushFirst = try ZMQSocket(.push, context: context)
        let pushSecond = try ZMQSocket(.push, context: context)
        try pushFirst.connect(try first.bind("inproc://poll-a"))
        try pushSecond.connect(try second.bind("inproc://poll-b"))

        let poller = ZMQPoller()
        let firstIndex = poller.register(first)
        let secondIndex = poller.register(second)
        #expect(try poller.poll(timeout: .milliseconds(50)) == 0)

        try pushSecond.send([1])
        #expect(try poller.poll(timeout: .seconds(2)) == 1)
        #expect(!poller.isReadable(at: firstIndex))
        #expect(poller.isReadable(at: secondIndex))
        #expect(try second.receive(timeout: .zero) == [[1]])
    }

    @Test func pollTimeoutIsHonoured() throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(.pull, context: context)
        try socket.bind("tcp://127.0.0.1:*")
        let poller = ZMQPoller()
        poller.register(socket)
        let start = ContinuousClock.now
        #expect(try poller.poll(timeout: .milliseconds(100)) == 0)
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(90) && elapsed < .seconds(1))
    }
}
