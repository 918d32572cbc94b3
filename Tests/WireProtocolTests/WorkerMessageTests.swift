import ServingTypes
import Testing
import WireProtocol

@Suite struct WorkerMessageTests {
    static let submit = WorkerSubmit(
        requestID: 0xdead_beef_0000_0001, tokenIDs: [1, 2, 3, 40_000],
        params: SamplingParams(
            maxTokens: 32, temperature: 0.7, topK: 40, topP: 0.9, minP: 0.05, seed: 42, frequencyPenalty: 0.5,
            presencePenalty: -0.5, repetitionPenalty: 1.1, stopTokenIDs: [2, 7], ignoreEOS: true, logprobs: 5,
            namespace: 0xfeed))

    static let routerMessages: [RouterToWorker] = [
        .registered(workerID: 3, heartbeatMilliseconds: 500),
        .refused(reason: "page size 16 ≠ router's 32"),
        .submit(submit),
        .submit(WorkerSubmit(requestID: 0, tokenIDs: [], params: SamplingParams())),
        .abort(requestID: .max),
        .flushCache,
        .snapshotRequest,
        .registerAgain,
    ]

    static let workerMessages: [WorkerToRouter] = [
        .register(WorkerRegistration(
            workerID: 7, incarnation: 0x0123_4567_89ab_cdef, modelID: "llama-gqa", modelFingerprint: "a1b2c3",
            pageSize: 16, hashSeed: 99, tensorParallelSize: 2, capacityPages: 4096, maxModelLength: 8192, features: .deterministic)),
        .tokens([
            TokenOutput(requestID: 1, firstIndex: 0, tokenIDs: [5]),
            TokenOutput(
                requestID: 2, firstIndex: 9, tokenIDs: [6, 7],
                logprobs: [
                    TokenLogprobs(logprob: -0.25, top: [TokenLogprob(tokenID: 6, logprob: -0.25)]),
                    TokenLogprobs(logprob: -.infinity, top: []),
                ]),
        ]),
        .tokens([]),
        .finished(RequestFinish(requestID: 1, reason: .stop(tokenID: 2), promptTokens: 10, completionTokens: 3, cachedTokens: 8)),
        .finished(RequestFinish(requestID: 2, reason: .length, promptTokens: 1, completionTokens: 32, cachedTokens: 0)),
        .finished(RequestFinish(requestID: 3, reason: .abort, promptTokens: 1, completionTokens: 0, cachedTokens: 0)),
        .finished(RequestFinish(requestID: 4, reason: .error(message: "prompt too long"), promptTokens: 9, completionTokens: 0, cachedTokens: 0)),
        .failed(requestID: 5, code: .invalidRequest, message: "top_p 2 outside (0, 1]"),
        .kvEvents(KVEventBatch(incarnation: 11, sequence: 1, events: [
            .stored(namespace: 0, parentHash: nil, pageHashes: [1, 2, 3]),
            .stored(namespace: 5, parentHash: 3, pageHashes: [4]),
            .removed(pageHashes: [4, 3]),
            .cleared,
        ])),
        .snapshot(CacheSnapshot(incarnation: 11, sequence: 9, chains: [
            CachedChain(namespace: 0, parentHash: nil, pageHashes: [1, 2]),
            CachedChain(namespace: 0, parentHash: 2, pageHashes: [8]),
        ])),
        .snapshot(CacheSnapshot(incarnation: 1, sequence: 0, chains: [])),
        .heartbeat(WorkerHeartbeat(
            incarnation: 11, sequence: 9, load: LoadReport(
                runningCount: 3, waitingCount: 4, waitingPrefillTokens: 100, freePages: 10, evictablePages: 20,
                cachedPages: 30, totalPages: 64, prefillTokensPerSecond: 1234.5, decodeTokensPerSecond: 67.5))),
        .draining(deadlineMilliseconds: 30_000),
        .leaving,
    ]

    // MARK: - Round trips

    @Test(arguments: routerMessages)
    func routerMessagesRoundTrip(message: RouterToWorker) throws {
        #expect(try RouterToWorker.decode(message.encoded) == message)
    }

    @Test(arguments: workerMessages)
    func workerMessagesRoundTrip(message: WorkerToRouter) throws {
        #expect(try WorkerToRouter.decode(message.encoded) == message)
    }

    @Test func stopTokenSetsEncodeSorted() throws {
        var submit = Self.submit
        submit.params.stopTokenIDs = [9, 3, 5]
        guard case .submit(let decoded) = try RouterToWorker.decode(RouterToWorker.submit(submit).encoded) else {
            Issue.record("not a submit")
            return
        }
        #expect(decoded.params.stopTokenIDs == [3, 5, 9])
    }

    @Test func familyAndKindsAreDocumented() {
        let frame = RouterToWorker.abort(requestID: 0x0102_0304_0506_0708).encoded
        #expect(Array(frame[0..<4]) == Array("RXSW".utf8))
        #expect(frame[6] == 0x05 && frame[7] == 0x02)  // kind 0x0205
        #expect(Array(frame[8..<12]) == [8, 0, 0, 0])
        #expect(Array(frame[16...]) == [8, 7, 6, 5, 4, 3, 2, 1])
        #expect(RouterToWorker.flushCache.encoded.count == 16)
    }

    @Test func longTextIsTruncatedOnACharacterBoundary() throws {
        let reason = String(repeating: "é", count: 3000)  // 6000 bytes
        guard case .refused(let decoded) = try RouterToWorker.decode(RouterToWorker.refused(reason: reason).encoded) else {
            Issue.record("not a refusal")
            return
        }
        #expect(decoded.utf8.count == 4096 && decoded.allSatisfy { $0 == "é" })
    }

    @Test func handshakeMismatchesNameBothValues() throws {
        guard case .register(let registration) = Self.workerMessages[0] else {
            Issue.record("fixture is not a register")
            return
        }
        #expect(registration.incompatibility(modelFingerprint: "a1b2c3", pageSize: 16, hashSeed: 99) == nil)
        let reason = try #require(registration.incompatibility(modelFingerprint: "ffff", pageSize: 32, hashSeed: 1))
        for value in ["a1b2c3", "ffff", "16", "32", "99", "1"] { #expect(reason.contains(value)) }
        var old = registration
        old.protocolRevision = 0
        #expect(old.incompatibility(modelFingerprint: "a1b2c3", pageSize: 16, hashSeed: 99)?.contains("revision 0") == true)
    }

    @Test func registerFeaturesRoundTripAndReservedBitsAreRefused() throws {
        guard case .register(var registration) = Self.workerMessages[0] else {
            Issue.record("fixture is not a register")
            return
        }
        registration.features = []
        #expect(try WorkerToRouter.decode(WorkerToRouter.register(registration).encoded) == .register(registration))
        var frame = WorkerToRouter.register(registration).encoded
        frame[frame.count - 4] = 0x06  // bits 1 and 2: reserved
        let error = #expect(throws: WireError.self) { try WorkerToRouter.decode(frame) }
        #expect(error?.code == .invalidValue && "\(error!)".contains("reserved bits 0x6"))
    }

    // MARK: - Malformed frames

    @Test func directionIsChecked() {
        let fromWorker = WorkerToRouter.failed(requestID: 1, code: .internalError, message: "").encoded
        #expect((#expect(throws: WireError.self) { try RouterToWorker.decode(fromWorker) })?.code == .unknownKind)
        let fromRouter = RouterToWorker.flushCache.encoded
        #expect((#expect(throws: WireError.self) { try WorkerToRouter.decode(fromRouter) })?.code == .unknownKind)
    }

    @Test func everyTruncationIsAnError() {
        for message in Self.routerMessages {
            let frame = message.encoded
            for length in 0..<frame.count {
                #expect(throws: WireError.self) { try RouterToWorker.decode(Array(frame[..<length])) }
            }
        }
        for message in Self.workerMessages {
            let frame = message.encoded
            for length in 0..<frame.count {
                #expect(throws: WireError.self) { try WorkerToRouter.decode(Array(frame[..<length])) }
            }
        }
    }

    @Test func patchedLengthsAndTrailingBytesAreErrors() {
        for message in Self.workerMessages {
            var frame = message.encoded
            frame.append(0)
            frame[8] &+= 1
            #expect(throws: WireError.self) { try WorkerToRouter.decode(frame) }
        }
        var short = RouterToWorker.submit(Self.submit).encoded
        short.removeLast(8)
        withUnsafeBytes(of: UInt32(short.count - 16).littleEndian) { for i in 0..<4 { short[8 + i] = $0[i] } }
        #expect((#expect(throws: WireError.self) { try RouterToWorker.decode(short) })?.code == .truncated)
    }

    @Test func lyingCountsAreRejectedBeforeAllocation() {
        // submit: requestID (8) then the token count.
        var frame = RouterToWorker.submit(Self.submit).encoded
        for i in 0..<4 { frame[24 + i] = 0xff }
        #expect((#expect(throws: WireError.self) { try RouterToWorker.decode(frame) })?.code == .oversized)
        // kvEvents: incarnation, sequence, then the event count.
        var events = WorkerToRouter.kvEvents(KVEventBatch(incarnation: 1, sequence: 1, events: [.cleared])).encoded
        events[33] = 0xff
        #expect((#expect(throws: WireError.self) { try WorkerToRouter.decode(events) })?.code == .truncated)
    }

    @Test func invalidValuesAreRejected() {
        var flag = RouterToWorker.submit(Self.submit).encoded
        // requestID 8, tokens 4+16, maxTokens 4, temperature 8, topK 4, topP 8, minP 8 → seed flag.
        flag[16 + 8 + 20 + 4 + 8 + 4 + 8 + 8] = 2
        #expect((#expect(throws: WireError.self) { try RouterToWorker.decode(flag) })?.code == .invalidValue)
        var nan = Self.submit
        nan.params.temperature = .nan
        let nanError = #expect(throws: WireError.self) { try RouterToWorker.decode(RouterToWorker.submit(nan).encoded) }
        #expect(nanError?.code == .invalidValue)
        var reason = WorkerToRouter.finished(RequestFinish(requestID: 1, reason: .length, promptTokens: 0, completionTokens: 0, cachedTokens: 0)).encoded
        reason[24] = 9
        #expect((#expect(throws: WireError.self) { try WorkerToRouter.decode(reason) })?.code == .invalidValue)
        let mismatched = WorkerToRouter.tokens([TokenOutput(
            requestID: 1, firstIndex: 0, tokenIDs: [1, 2], logprobs: [TokenLogprobs(logprob: 0, top: [])])])
        #expect(throws: WireError.self) { try WorkerToRouter.decode(mismatched.encoded) }
    }

    @Test func requestIDOfAMalformedSubmitCanBeRead() {
        var frame = RouterToWorker.submit(Self.submit).encoded
        frame.removeLast(3)
        #expect(RouterToWorker.requestID(ofMalformed: frame) == Self.submit.requestID)
        #expect(RouterToWorker.requestID(ofMalformed: RouterToWorker.flushCache.encoded) == nil)
        #expect(RouterToWorker.requestID(ofMalformed: [1, 2, 3]) == nil)
        var abort = RouterToWorker.abort(requestID: 7).encoded
        abort.append(0)
        #expect(RouterToWorker.requestID(ofMalformed: abort) == nil, "a malformed abort is not answered")
    }

    @Test func randomGarbageNeverCrashes() {
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let valid = Self.routerMessages.map(\.encoded) + Self.workerMessages.map(\.encoded)
        for iteration in 0..<20_000 {
            var frame = valid[iteration % valid.count]
            for _ in 0...(next() % 4) { frame[Int(next() % UInt64(frame.count))] = UInt8(truncatingIfNeeded: next()) }
            _ = try? RouterToWorker.decode(frame)
            _ = try? WorkerToRouter.decode(frame)
        }
        for length in 0..<64 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: next()) }
            _ = try? RouterToWorker.decode(bytes)
            _ = try? WorkerToRouter.decode(bytes)
        }
    }
}
