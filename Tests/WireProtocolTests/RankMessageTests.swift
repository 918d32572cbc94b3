import Testing
import WireProtocol

@Suite struct RankMessageTests {
    static let plan = StepPlan(
        sequence: 42, pageCount: 8, pageSize: 4, tokenIDs: [5, 6, 7, 9], positions: [0, 1, 2, 7], slotMapping: [0, 1, 2, 15],
        queryStarts: [0, 3, 4], contextLengths: [3, 8], pageTableStarts: [0, 1, 3], pageIDs: [0, 2, 3], logitRows: [2, 3])

    static let messages: [RankMessage] = [
        .hello(RankHello(rank: 1, tensorParallelSize: 4, modelFingerprint: "abc123", modelName: "/models/llämä",
            maxStepTokens: 2048, maxLogitRows: 256)),
        .step(plan),
        .heartbeat(sequence: .max),
        .shutdown(reason: "done"),
        .shutdown(reason: ""),
    ]

    // MARK: - Round trips

    @Test(arguments: messages)
    func roundTrips(message: RankMessage) throws {
        #expect(try RankMessage.decode(message.encoded) == message)
    }

    @Test func writerIsReusableAcrossMessages() throws {
        var writer = WireWriter()
        for message in Self.messages + Self.messages.reversed() {
            message.encode(into: &writer)
            #expect(try RankMessage.decode(writer.bytes) == message)
        }
    }

    @Test func headerLayoutIsLittleEndianAndDocumented() {
        let frame = RankMessage.heartbeat(sequence: 0x0102_0304_0506_0708).encoded
        #expect(Array(frame[0..<4]) == Array("RXSW".utf8))
        #expect(frame[4] == 1 && frame[5] == 0)  // version 1
        #expect(frame[6] == 0x03 && frame[7] == 0x01)  // kind 0x0103
        #expect(Array(frame[8..<12]) == [8, 0, 0, 0])  // payload length
        #expect(Array(frame[12..<16]) == [0, 0, 0, 0])
        #expect(Array(frame[16...]) == [8, 7, 6, 5, 4, 3, 2, 1])
    }

    // MARK: - Malformed frames

    @Test(arguments: messages)
    func everyTruncationIsAnError(message: RankMessage) {
        let frame = message.encoded
        for length in 0..<frame.count {
            #expect(throws: WireError.self) { try RankMessage.decode(Array(frame[..<length])) }
        }
    }

    @Test func truncatedPayloadWithPatchedLengthIsAnError() throws {
        var frame = RankMessage.step(Self.plan).encoded
        frame.removeLast(4)
        let payload = UInt32(frame.count - 16)
        withUnsafeBytes(of: payload.littleEndian) { for i in 0..<4 { frame[8 + i] = $0[i] } }
        let error = #expect(throws: WireError.self) { try RankMessage.decode(frame) }
        #expect(error?.code == .truncated)
    }

    @Test func trailingBytesAreAnError() {
        var frame = RankMessage.shutdown(reason: "x").encoded
        frame.append(0)
        #expect(throws: WireError.self) { try RankMessage.decode(frame) }
        var patched = RankMessage.shutdown(reason: "x").encoded
        patched.append(0)
        patched[8] += 1  // length now covers the extra byte, which no field reads
        let error = #expect(throws: WireError.self) { try RankMessage.decode(patched) }
        #expect(error?.code == .trailingBytes)
    }

    @Test func oversizedFramesAndArraysAreRejectedBeforeAllocation() {
        let frame = RankMessage.step(Self.plan).encoded
        let error = #expect(throws: WireError.self) { try RankMessage.decode(frame, maxFrameBytes: 32) }
        #expect(error?.code == .oversized)
        // An array count of 2^32 - 1 in a small frame.
        var lying = frame
        for i in 0..<4 { lying[16 + 16 + i] = 0xff }
        let arrayError = #expect(throws: WireError.self) { try RankMessage.decode(lying) }
        #expect(arrayError?.code == .oversized)
        // A payload length of 4 GiB.
        var huge = frame
        for i in 0..<4 { huge[8 + i] = 0xff }
        #expect((#expect(throws: WireError.self) { try RankMessage.decode(huge) })?.code == .oversized)
    }

    @Test func wrongMagicVersionKindAndReservedAreErrors() {
        let frame = RankMessage.heartbeat(sequence: 1).encoded
        var magic = frame
        magic[0] = 0
        #expect((#expect(throws: WireError.self) { try RankMessage.decode(magic) })?.code == .badMagic)
        var version = frame
        version[4] = 2
        let versionError = #expect(throws: WireError.self) { try RankMessage.decode(version) }
        #expect(versionError?.code == .unsupportedVersion)
        #expect(versionError?.message.contains("v2") == true)
        var kind = frame
        kind[6] = 0x77
        #expect((#expect(throws: WireError.self) { try RankMessage.decode(kind) })?.code == .unknownKind)
        var reserved = frame
        reserved[13] = 1
        #expect((#expect(throws: WireError.self) { try RankMessage.decode(reserved) })?.code == .invalidValue)
    }

    @Test func invalidUTF8IsAnError() {
        var frame = RankMessage.shutdown(reason: "ab").encoded
        frame[frame.count - 1] = 0xff
        #expect((#expect(throws: WireError.self) { try RankMessage.decode(frame) })?.code == .invalidValue)
    }

    @Test(arguments: [
        { (plan: inout StepPlan) in plan.positions.removeLast() },
        { (plan: inout StepPlan) in plan.queryStarts[2] = 5 },
        { (plan: inout StepPlan) in plan.contextLengths[0] = 2 },
        { (plan: inout StepPlan) in plan.pageIDs[0] = 8 },
        { (plan: inout StepPlan) in plan.slotMapping[3] = 32 },
        { (plan: inout StepPlan) in plan.logitRows = [3, 2] },
        { (plan: inout StepPlan) in plan.logitRows = [4] },
        { (plan: inout StepPlan) in plan.pageTableStarts = [0, 2, 2] },
        { (plan: inout StepPlan) in plan.pageSize = 0 },
        { (plan: inout StepPlan) in plan.contextLengths[1] = 13 },
    ] as [@Sendable (inout StepPlan) -> Void])
    func inconsistentStepsAreRejected(corrupt: @Sendable (inout StepPlan) -> Void) {
        var plan = Self.plan
        corrupt(&plan)
        let error = #expect(throws: WireError.self) { try RankMessage.decode(RankMessage.step(plan).encoded) }
        #expect(error?.code == .invalidValue)
    }

    @Test func randomGarbageNeverCrashes() {
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let valid = Self.messages.map(\.encoded)
        for iteration in 0..<20_000 {
            var frame = valid[iteration % valid.count]
            for _ in 0...(next() % 4) { frame[Int(next() % UInt64(frame.count))] = UInt8(truncatingIfNeeded: next()) }
            if iteration % 3 == 0 { frame = (0..<Int(next() % 64)).map { _ in UInt8(truncatingIfNeeded: next()) } }
            _ = try? RankMessage.decode(frame)
        }
    }
}
