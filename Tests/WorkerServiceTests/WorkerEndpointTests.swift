import Certification
import Engine
import Foundation
import KVPaging
import ServingTypes
import Testing
import TestSupport
import Transport
import WireProtocol
import WorkerService

@Suite(.serialized) struct WorkerEndpointTests {
    static let greedy = SamplingParams(maxTokens: 32, temperature: 0, ignoreEOS: true)

    // MARK: - Registration

    @Test func registersWithItsGeometryAndSendsHeartbeats() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try WorkerUnderTest(routerEndpoint: router.endpoint, context: context, workerID: 7, pages: 256)
        defer { worker.stop() }
        let registration = try #require(try router.acceptRegistration(heartbeatMilliseconds: 50))
        #expect(registration.workerID == 7)
        #expect(registration.protocolRevision == WorkerMessageLimits.protocolRevision)
        #expect(registration.pageSize == 4 && registration.capacityPages == 256 && registration.hashSeed == 0)
        #expect(registration.modelID == "llama-gqa" && registration.modelFingerprint == "fixture")
        #expect(registration.incarnation == worker.endpoint.config.incarnation)
        #expect(registration.maxModelLength == 512)
        #expect(router.peer == worker.endpoint.config.routingID)
        #expect(worker.endpoint.waitForRegistration(timeout: .seconds(10)) == .registered)

        var beats: [WorkerHeartbeat] = []
        _ = try router.receive(timeout: .seconds(30)) { message -> Bool? in
            if case .heartbeat(let beat) = message { beats.append(beat) }
            return beats.count >= 3 ? true : nil
        }
        #expect(beats.count == 3)
        #expect(beats.allSatisfy { $0.load.totalPages == 256 && $0.load.freePages == 256 && $0.incarnation == registration.incarnation })
    }

    @Test func refusalStopsTheWorker() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try WorkerUnderTest(routerEndpoint: router.endpoint, context: context)
        defer { worker.stop() }
        let registration = try #require(try router.receive { message -> WorkerRegistration? in
            if case .register(let registration) = message { return registration }
            return nil
        })
        let reason = try #require(registration.incompatibility(
            modelFingerprint: registration.modelFingerprint, pageSize: 16, hashSeed: registration.hashSeed))
        #expect(reason.contains("page size is 4, the router's is 16"))
        try router.send(.refused(reason: reason))
        #expect(worker.endpoint.waitForRegistration(timeout: .seconds(10)) == .refused(reason: reason))
        worker.endpoint.stop()
        #expect(worker.endpoint.state == .refused(reason: reason))
    }

    /// A restarted router asks the worker to register again: the worker sends `register` with the
    /// same incarnation, keeps retrying past its registration timeout (it was serving, so it waits
    /// for its router), and heartbeats once answered.
    @Test func registersAgainWhenTheRouterAsks() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try WorkerUnderTest(
            routerEndpoint: router.endpoint, context: context, registrationTimeout: .milliseconds(300))
        defer { worker.stop() }
        let first = try #require(try router.acceptRegistration(heartbeatMilliseconds: 50))
        try router.send(.registerAgain)
        var registrations: [WorkerRegistration] = []
        _ = try router.receive(timeout: .seconds(30)) { message -> Bool? in
            if case .register(let registration) = message { registrations.append(registration) }
            return registrations.count >= 5 ? true : nil
        }
        #expect(registrations.count == 5, "the worker gave up registering again")
        #expect(registrations.allSatisfy { $0.incarnation == first.incarnation && $0.workerID == first.workerID })
        try router.send(.registered(workerID: first.workerID, heartbeatMilliseconds: 50))
        let beat = try router.receive { message -> WorkerHeartbeat? in
            if case .heartbeat(let beat) = message { return beat }
            return nil
        }
        #expect(beat?.incarnation == first.incarnation)
        #expect(worker.endpoint.state == .registered)
    }

    /// A draining worker announces its deadline, refuses new submissions (so the router retries
    /// them elsewhere) and says `leaving` when stopped.
    @Test func drainingRefusesNewRequestsAndStoppingSaysLeaving() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try WorkerUnderTest(routerEndpoint: router.endpoint, context: context)
        defer { worker.stop() }
        _ = try #require(try router.acceptRegistration(heartbeatMilliseconds: 50))
        worker.endpoint.drain(deadline: .seconds(12))
        let deadline = try router.receive { message -> UInt32? in
            if case .draining(let milliseconds) = message { return milliseconds }
            return nil
        }
        #expect(deadline == 12_000)
        try router.send(.submit(WorkerSubmit(requestID: 31, tokenIDs: [1, 2, 3], params: Self.greedy)))
        let refusal = try router.receive { message -> (WorkerFailureCode, String)? in
            if case .failed(31, let code, let text) = message { return (code, text) }
            return nil
        }
        #expect(refusal?.0 == .unavailable)
        #expect(refusal?.1.contains("shutting down") == true)
        worker.endpoint.stop()
        #expect(try router.receive { $0 == .leaving ? true : nil } == true)
    }

    @Test func registrationTimesOutWithoutARouter() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try WorkerUnderTest(
            routerEndpoint: router.endpoint, context: context, registrationTimeout: .milliseconds(400))
        defer { worker.stop() }
        #expect(worker.endpoint.waitForRegistration(timeout: .seconds(10)) == .timedOut)
    }

    // MARK: - Serving

    @Test func servesGreedyTokensEqualToTransformers() throws {
        let reference = try ModelReference.load("llama-gqa")
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try WorkerUnderTest(routerEndpoint: router.endpoint, context: context)
        defer { worker.stop() }
        _ = try #require(try router.acceptRegistration())
        for (index, prompt) in reference.prompts.prefix(2).enumerated() {
            let id = UInt64(100 + index)
            try router.send(.submit(WorkerSubmit(requestID: id, tokenIDs: prompt.promptTokenIDs, params: Self.greedy)))
            let (tokens, end) = try router.collect(id)
            #expect(tokens == prompt.greedyTokenIDs)
            #expect(end == .finished(RequestFinish(
                requestID: id, reason: .length, promptTokens: UInt32(prompt.promptTokenIDs.count), completionTokens: 32,
                cachedTokens: 0)))
        }
    }

    @Test func abortMidGenerationFinishesWithAbort() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try WorkerUnderTest(routerEndpoint: router.endpoint, context: context)
        defer { worker.stop() }
        _ = try #require(try router.acceptRegistration())
        var params = Self.greedy
        params.maxTokens = 450
        try router.send(.submit(WorkerSubmit(requestID: 5, tokenIDs: [1, 2, 3], params: params)))
        let first = try router.receive { message -> Int? in
            guard case .tokens(let outputs) = message else { return nil }
            return outputs.first { $0.requestID == 5 }.map { Int($0.firstIndex) + $0.tokenIDs.count }
        }
        let received = try #require(first)
        try router.send(.abort(requestID: 5))
        let (_, end) = try router.collect(5, receivedCount: received)
        guard case .finished(let finish) = end else {
            Issue.record("expected finished, got \(String(describing: end))")
            return
        }
        #expect(finish.reason == .abort)
        #expect(finish.completionTokens < 450)
    }

    /// A drain waits for this count as well as the engine's load, which reads idle until the end
    /// of the step that sent a new request's first tokens.
    @Test func unfinishedRequestsAreCountedFromSubmitToFinished() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try WorkerUnderTest(routerEndpoint: router.endpoint, context: context)
        defer { worker.stop() }
        _ = try #require(try router.acceptRegistration())
        #expect(worker.endpoint.unfinishedRequestCount == 0)
        var params = Self.greedy
        params.maxTokens = 450
        try router.send(.submit(WorkerSubmit(requestID: 8, tokenIDs: [1, 2, 3], params: params)))
        let first = try router.receive { message -> Int? in
            guard case .tokens(let outputs) = message else { return nil }
            return outputs.first { $0.requestID == 8 }.map { Int($0.firstIndex) + $0.tokenIDs.count }
        }
        #expect(worker.endpoint.unfinishedRequestCount == 1)
        try router.send(.abort(requestID: 8))
        _ = try router.collect(8, receivedCount: try #require(first))
        #expect(worker.endpoint.unfinishedRequestCount == 0)
    }

    @Test func garbageFromTheRouterIsDroppedAndServingContinues() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try WorkerUnderTest(routerEndpoint: router.endpoint, context: context)
        defer { worker.stop() }
        _ = try #require(try router.acceptRegistration())
        try router.sendRaw([[1, 2, 3]])
        try router.sendRaw([RouterToWorker.flushCache.encoded, [9]])
        try router.sendRaw([WorkerToRouter.tokens([]).encoded])
        var truncated = RouterToWorker.submit(WorkerSubmit(requestID: 77, tokenIDs: [1, 2], params: Self.greedy)).encoded
        truncated.removeLast(5)
        try router.sendRaw([truncated])
        let failure = try router.receive { message -> WorkerFailureCode? in
            if case .failed(77, let code, _) = message { return code }
            return nil
        }
        #expect(failure == .malformedMessage)

        var params = Self.greedy
        params.maxTokens = 4
        try router.send(.submit(WorkerSubmit(requestID: 78, tokenIDs: [1, 2], params: params)))
        try router.send(.submit(WorkerSubmit(requestID: 78, tokenIDs: [1, 2], params: params)))
        let duplicate = try router.receive { message -> WorkerFailureCode? in
            if case .failed(78, let code, _) = message { return code }
            return nil
        }
        #expect(duplicate == .duplicateRequest)
        let (tokens, end) = try router.collect(78)
        #expect(tokens.count == 4)
        guard case .finished(let finish) = end else {
            Issue.record("expected finished, got \(String(describing: end))")
            return
        }
        #expect(finish.reason == .length && finish.promptTokens == 2 && finish.completionTokens == 4)
    }

    @Test func invalidParametersFinishWithAnError() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try WorkerUnderTest(routerEndpoint: router.endpoint, context: context)
        defer { worker.stop() }
        _ = try #require(try router.acceptRegistration())
        var params = Self.greedy
        params.topP = 2
        try router.send(.submit(WorkerSubmit(requestID: 9, tokenIDs: [1], params: params)))
        let (tokens, end) = try router.collect(9)
        #expect(tokens.isEmpty)
        guard case .finished(let finish) = end, case .error(let message) = finish.reason else {
            Issue.record("expected an error finish, got \(String(describing: end))")
            return
        }
        #expect(message.contains("top_p"))
    }

    // MARK: - Cache events and snapshots

    @Test func cacheEventsArriveInBatchesWithIncreasingSequenceNumbers() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try WorkerUnderTest(routerEndpoint: router.endpoint, context: context)
        defer { worker.stop() }
        let registration = try #require(try router.acceptRegistration(heartbeatMilliseconds: 50))
        worker.outbox.post(cacheEvents: [.stored(namespace: 3, parentHash: nil, pageHashes: [10, 11])])
        worker.outbox.post(cacheEvents: [])
        worker.outbox.post(cacheEvents: [.removed(pageHashes: [11]), .cleared])
        var batches: [KVEventBatch] = []
        _ = try router.receive { message -> Bool? in
            if case .kvEvents(let batch) = message { batches.append(batch) }
            return batches.count == 2 ? true : nil
        }
        #expect(batches.map(\.sequence) == [1, 2])
        #expect(batches.allSatisfy { $0.incarnation == registration.incarnation })
        #expect(batches.first?.events == [.stored(namespace: 3, parentHash: nil, pageHashes: [10, 11])])
        #expect(batches.last?.events == [.removed(pageHashes: [11]), .cleared])
        let beat = try router.receive { message -> WorkerHeartbeat? in
            if case .heartbeat(let beat) = message { return beat }
            return nil
        }
        #expect(beat?.sequence == 2)

        try router.send(.snapshotRequest)
        let snapshot = try router.receive { message -> CacheSnapshot? in
            if case .snapshot(let snapshot) = message { return snapshot }
            return nil
        }
        #expect(snapshot?.sequence == 2 && snapshot?.incarnation == registration.incarnation)
    }

    @Test func stopIsPromptAndIdempotent() throws {
        let context = try ZMQContext()
        let router = try FakeRouter(context: context)
        let worker = try WorkerUnderTest(routerEndpoint: router.endpoint, context: context)
        _ = try #require(try router.acceptRegistration())
        #expect(worker.endpoint.waitForRegistration(timeout: .seconds(10)) == .registered)
        let clock = ContinuousClock()
        let start = clock.now
        worker.endpoint.stop()
        worker.endpoint.stop()
        #expect(clock.now - start < .seconds(2))
        #expect(worker.endpoint.state == .stopped(reason: "stopped"))
        worker.stop()
    }
}
