import Foundation
import PageHashing
import ProcessLogging
import RouterCore
import RouterService
import ServingTypes
import TestSupport
import Testing
import Transport
import WireProtocol

/// The router core against scripted workers on real ZeroMQ sockets.
@Suite(.serialized) struct RouterCoordinatorTests {
    let context: ZMQContext
    let coordinator: RouterCoordinator

    init() throws {
        context = try ZMQContext()
        coordinator = RouterCoordinator(
            config: RouterServiceConfig(
                workerEndpoint: "tcp://127.0.0.1:*", modelID: "fake", modelFingerprint: "fp", pageSize: 4, hashSeed: 0,
                maxModelLength: 4096, heartbeatInterval: .milliseconds(100), missedHeartbeatLimit: 10, maxAttempts: 3,
                seed: 1, logger: .discarding()),
            context: context)
        try coordinator.start()
    }

    func worker(_ id: UInt32) throws -> FakeWorker {
        let worker = try FakeWorker(context: context, endpoint: coordinator.boundWorkerEndpoint, workerID: id)
        #expect(try worker.register())
        try waitUntil { coordinator.routableWorkerCount >= 1 && coordinator.workers().contains { $0.id == id } }
        return worker
    }

    func waitUntil(timeout: Duration = .seconds(10), _ condition: () -> Bool) throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within \(timeout)")
                return
            }
            usleep(5_000)
        }
    }

    /// Polls `workers` (heartbeating all of them, so none looks dead) until one gets a `submit`.
    func firstSubmit(among workers: [FakeWorker], timeout: Duration = .seconds(10)) throws -> (FakeWorker, WorkerSubmit)? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            for worker in workers {
                try worker.heartbeat()
                if let submit = try worker.nextSubmit(timeout: .milliseconds(10)) { return (worker, submit) }
            }
        }
        return nil
    }

    /// Collects a request's updates.
    func collect(_ handle: RoutedRequestHandle) async throws -> (tokens: [Int32], finish: RoutedFinish?) {
        var tokens: [Int32] = []
        var finish: RoutedFinish?
        for try await update in handle.updates {
            switch update {
            case .tokens(let ids, _): tokens += ids
            case .finished(let value): finish = value
            }
        }
        return (tokens, finish)
    }

    static let params = SamplingParams(maxTokens: 4, temperature: 0)

    @Test func refusesAWorkerWithAnotherModel() throws {
        defer { coordinator.shutdown() }
        let worker = try FakeWorker(context: context, endpoint: coordinator.boundWorkerEndpoint, workerID: 9)
        try worker.send(.register(worker.registration(fingerprint: "other")))
        let reason = try worker.expect { message -> String? in
            if case .refused(let reason) = message { return reason }
            return nil
        }
        #expect(reason?.contains("fingerprint other") == true)
        #expect(coordinator.workers().isEmpty)
    }

    @Test func streamsTokensAndFinishesWithUsage() async throws {
        defer { coordinator.shutdown() }
        let worker = try worker(1)
        let handle = try coordinator.submit(RoutedRequest(tokenIDs: [1, 2, 3, 4, 5], params: Self.params))
        let submit = try #require(try worker.nextSubmit())
        #expect(submit.tokenIDs == [1, 2, 3, 4, 5] && submit.params == Self.params)
        try worker.complete(submit, tokens: [7, 8, 9, 10], cached: 4)
        let (tokens, finish) = try await collect(handle)
        #expect(tokens == [7, 8, 9, 10])
        #expect(finish?.promptTokens == 5 && finish?.completionTokens == 4 && finish?.cachedTokens == 4)
        #expect(finish?.reason == .length && finish?.attempts == 1 && finish?.workerID == 1)
        try waitUntil { coordinator.workers().first?.inFlight == 0 }
        #expect(coordinator.metricsText().contains("sglang:generation_tokens_total 4"))
    }

    @Test func noWorkerIsAClearError() throws {
        defer { coordinator.shutdown() }
        #expect(throws: RoutedRequestError.noWorkers) {
            try coordinator.submit(RoutedRequest(tokenIDs: [1], params: Self.params))
        }
    }

    @Test func samplesOfOnePromptGoToOneWorkerWithTheirOwnSeeds() async throws {
        defer { coordinator.shutdown() }
        let workers = [try worker(1), try worker(2)]
        let params = SamplingParams(maxTokens: 4, temperature: 1, seed: 9)
        for round in 0..<4 {
            let prompt = (0..<40).map { Int32(round * 100 + $0) }
            // Both routable again after the last round's wait (a loaded host may have let one miss its heartbeats).
            try waitUntil {
                for worker in workers { try? worker.heartbeat() }
                return coordinator.routableWorkerCount == 2
            }
            let handles = try coordinator.submit((0..<3).map { RoutedRequest(tokenIDs: prompt, params: params.forChoice($0)) })
            #expect(Set(handles.map(\.id)).count == 3)
            let (holder, first) = try #require(try firstSubmit(among: workers))
            var submits = [first]
            while submits.count < 3, let next = try holder.nextSubmit(timeout: .seconds(5)) { submits.append(next) }
            #expect(submits.count == 3, "round \(round): every sample went to worker \(holder.workerID)")
            #expect(submits.map(\.params.seed) == (0..<3).map { params.forChoice($0).seed })
            for submit in submits { try holder.complete(submit, tokens: [5]) }
            for handle in handles { #expect(try await collect(handle).finish?.workerID == holder.workerID) }
        }
    }

    @Test func failedDispatchIsRetriedOnAnotherWorker() async throws {
        defer { coordinator.shutdown() }
        let first = try worker(1)
        let second = try worker(2)
        let handle = try coordinator.submit(RoutedRequest(tokenIDs: [1, 2, 3], params: Self.params))
        // Whichever got it refuses; the other must get it next.
        let (failing, refused) = try #require(try firstSubmit(among: [first, second]))
        let other = failing === first ? second : first
        try failing.send(.failed(requestID: refused.requestID, code: .unavailable, message: "shutting down"))
        let (retriedOn, retried) = try #require(try firstSubmit(among: [other]))
        #expect(retriedOn === other)
        #expect(retried.requestID == refused.requestID && retried.tokenIDs == [1, 2, 3])
        try other.complete(retried, tokens: [4])
        let (tokens, finish) = try await collect(handle)
        #expect(tokens == [4] && finish?.attempts == 2 && finish?.workerID == other.workerID)
    }

    @Test func aSilentWorkersRequestsMoveAndStreamedOnesArePrefilledAgain() async throws {
        defer { coordinator.shutdown() }
        let first = try worker(1)
        let second = try worker(2)
        let handle = try coordinator.submit(RoutedRequest(tokenIDs: [1, 2, 3], params: Self.params))
        let (dying, placed) = try #require(try firstSubmit(among: [first, second]))
        let survivor = dying === first ? second : first
        try dying.send(.tokens([TokenOutput(requestID: placed.requestID, firstIndex: 0, tokenIDs: [40, 41])]))
        // The dying worker goes silent; the survivor keeps beating.
        let (_, recovered) = try #require(try firstSubmit(among: [survivor]))
        #expect(recovered.tokenIDs == [1, 2, 3, 40, 41])
        #expect(recovered.params.maxTokens == 2)
        try survivor.complete(recovered, tokens: [42, 43])
        let (tokens, finish) = try await collect(handle)
        #expect(tokens == [40, 41, 42, 43])
        #expect(finish?.completionTokens == 4 && finish?.promptTokens == 3 && finish?.attempts == 2)
        #expect(coordinator.metricsText().contains("radixserve_recovered_after_streaming_total 1"))
    }

    @Test func aRequestWhoseWorkerDiesAfterItsStopTokenIsCompleteNotResent() async throws {
        defer { coordinator.shutdown() }
        let first = try worker(1)
        let second = try worker(2)
        var params = Self.params
        params.maxTokens = 8
        params.stopTokenIDs = [77]
        let handle = try coordinator.submit(RoutedRequest(tokenIDs: [1, 2, 3], params: params))
        let (dying, placed) = try #require(try firstSubmit(among: [first, second]))
        let survivor = dying === first ? second : first
        try dying.send(.tokens([TokenOutput(requestID: placed.requestID, firstIndex: 0, tokenIDs: [40, 77])]))
        // No `finished` follows: the worker goes silent and is declared lost.
        let (tokens, finish) = try await collect(handle)
        #expect(tokens == [40, 77])
        #expect(finish?.reason == .stop(tokenID: 77) && finish?.completionTokens == 2)
        #expect(try survivor.nextSubmit(timeout: .milliseconds(200)) == nil, "a complete request must not be re-prefilled")
    }

    @Test func cancellingTheStreamAbortsOnTheWorker() async throws {
        defer { coordinator.shutdown() }
        let worker = try worker(1)
        let handle = try coordinator.submit(RoutedRequest(tokenIDs: [1, 2], params: Self.params))
        let submit = try #require(try worker.nextSubmit())
        let task = Task { for try await _ in handle.updates {} }
        task.cancel()
        // Let the consumer see its cancellation before this test blocks a thread on the socket.
        _ = await task.result
        let aborted = try worker.expect { message -> UInt64? in
            if case .abort(let id) = message { return id }
            return nil
        }
        #expect(aborted == submit.requestID)
        try worker.send(.finished(RequestFinish(requestID: submit.requestID, reason: .abort, promptTokens: 2, completionTokens: 0, cachedTokens: 0)))
        try waitUntil { coordinator.workers().first?.inFlight == 0 }
    }

    @Test func storedEventsSteerSharedPrefixesToTheirWorker() async throws {
        defer { coordinator.shutdown() }
        let first = try worker(1)
        let second = try worker(2)
        let prompt: [Int32] = Array(1...64)
        let hasher = PageHasher(seed: 0, pageSize: 4)
        let chain = hasher.chain(prompt[...], namespace: 0)
        // Worker 2 reports the whole prompt cached; worker 1 nothing.
        try second.send(.kvEvents(KVEventBatch(
            incarnation: second.incarnation, sequence: 1, events: [.stored(namespace: 0, parentHash: nil, pageHashes: chain)])))
        try second.heartbeat(sequence: 1)
        usleep(100_000)
        for _ in 0..<4 {
            // Both must be routable for the choice to mean anything. Under load an iteration can
            // outlast the missed-heartbeat limit, and a heartbeat is read by the router's thread
            // later, so heartbeat until the router counts both again.
            try waitUntil {
                (try? first.heartbeat()) != nil && (try? second.heartbeat(sequence: 1)) != nil
                    && coordinator.routableWorkerCount == 2
            }
            let handle = try coordinator.submit(RoutedRequest(tokenIDs: prompt + [99], params: Self.params))
            let submit = try #require(try second.nextSubmit(timeout: .seconds(2)), "the request should go to the worker holding the prefix")
            try second.complete(submit, tokens: [5], cached: 64)
            _ = try await collect(handle)
        }
        #expect(try first.nextSubmit(timeout: .milliseconds(100)) == nil)
    }

    @Test func garbageFramesAreDroppedAndServiceContinues() async throws {
        defer { coordinator.shutdown() }
        let worker = try worker(1)
        try worker.sendRaw([0xde, 0xad, 0xbe, 0xef])
        try worker.sendRaw(Array(repeating: 0x52, count: 64))
        let stranger = try FakeWorker(context: context, endpoint: coordinator.boundWorkerEndpoint, workerID: 77)
        try stranger.heartbeat()
        let handle = try coordinator.submit(RoutedRequest(tokenIDs: [1], params: Self.params))
        let submit = try #require(try worker.nextSubmit())
        try worker.complete(submit, tokens: [2])
        let (tokens, _) = try await collect(handle)
        #expect(tokens == [2])
        #expect(coordinator.workers().map(\.id) == [1])
    }

    @Test func removingAWorkerTellsItAndMovesItsRequests() async throws {
        defer { coordinator.shutdown() }
        let first = try worker(1)
        let second = try worker(2)
        _ = second
        #expect(coordinator.removeWorker(1))
        #expect(!coordinator.removeWorker(1))
        let reason = try first.expect { message -> String? in
            if case .refused(let reason) = message { return reason }
            return nil
        }
        #expect(reason?.contains("removed") == true)
        #expect(coordinator.workers().map(\.id) == [2])
        // The removed incarnation is neither asked back nor let back in.
        try first.heartbeat(sequence: 3)
        #expect(try first.expect(timeout: .milliseconds(300)) { $0 == .registerAgain ? true : nil } == nil)
        #expect(try !first.register())
        #expect(coordinator.workers().map(\.id) == [2])
    }

    /// Workers the router connects to (`POST /workers`) are told apart by the connection their
    /// registration arrives on, whatever order they register in; requests reach them over it.
    @Test func listeningWorkersAreMatchedToTheirEndpointsWhateverOrderTheyRegisterIn() async throws {
        defer { coordinator.shutdown() }
        var listening: [FakeWorker] = []
        for (firstID, secondID) in [(UInt32(11), UInt32(12)), (13, 14)] {
            let first = try FakeWorker(context: context, endpoint: "tcp://127.0.0.1:*", listen: true, workerID: firstID)
            let second = try FakeWorker(context: context, endpoint: "tcp://127.0.0.1:*", listen: true, workerID: secondID)
            let (firstEndpoint, secondEndpoint) = (first.endpoint, second.endpoint)
            async let firstStatus = coordinator.connectWorker(endpoint: firstEndpoint)
            async let secondStatus = coordinator.connectWorker(endpoint: secondEndpoint)
            try await Task.sleep(for: .milliseconds(200))  // both connections pending
            #expect(try await onOwnThread { try second.register() })
            #expect(try await onOwnThread { try first.register() })
            let (one, two) = try await (firstStatus, secondStatus)
            #expect(one.id == firstID && one.endpoint == first.endpoint)
            #expect(two.id == secondID && two.endpoint == second.endpoint)
            listening += [first, second]
        }
        #expect(coordinator.workers().filter(\.isRoutable).map(\.id).sorted() == [11, 12, 13, 14])
        // Requests reach a listening worker over the router's connection, and its answers arrive.
        let handle = try coordinator.submit(RoutedRequest(tokenIDs: [1, 2, 3], params: Self.params))
        let (worker, submit) = try #require(try firstSubmit(among: listening))
        try worker.complete(submit, tokens: [5, 6])
        let (tokens, finish) = try await collect(handle)
        #expect(tokens == [5, 6] && finish?.workerID == worker.workerID)
        // A second live process claiming a listening worker's id is refused, not swapped in.
        let impostor = try FakeWorker(context: context, endpoint: coordinator.boundWorkerEndpoint, workerID: 12)
        #expect(try !impostor.register())
        #expect(coordinator.workers().first { $0.id == 12 }?.endpoint == listening[1].endpoint)
        // Removal tells the listening worker over the router's connection.
        #expect(coordinator.removeWorker(13))
        let reason = try listening[2].expect { message -> String? in
            if case .refused(let reason) = message { return reason }
            return nil
        }
        #expect(reason?.contains("removed") == true)
    }

    /// A connection whose worker does not register in time is dropped with a clear error, and
    /// the endpoint can be added again.
    @Test func aListeningWorkerThatDoesNotRegisterInTimeCanBeAddedLater() async throws {
        defer { coordinator.shutdown() }
        let late = try FakeWorker(context: context, endpoint: "tcp://127.0.0.1:*", listen: true, workerID: 21)
        let endpoint = late.endpoint
        await #expect(throws: RouterServiceError.self) {
            try await coordinator.connectWorker(endpoint: endpoint, timeout: .milliseconds(300))
        }
        #expect(coordinator.workers().isEmpty)
        try await Task.sleep(for: .milliseconds(300))  // the dropped connection is gone on the worker's side too
        async let status = coordinator.connectWorker(endpoint: endpoint)
        // Blocks until the router's connection is up, which needs `status`'s task to run.
        #expect(try await onOwnThread { try late.register() })
        let added = try await status
        #expect(added.id == 21 && added.endpoint == endpoint)
    }

    /// A worker shutting down says `draining`: new requests go elsewhere, its running one keeps
    /// streaming from it, and when it says `leaving` the unfinished rest moves to another worker
    /// (re-prefilled with what it streamed) at once.
    @Test func aDrainingWorkerGetsNothingNewAndItsLeavingMovesTheRest() async throws {
        defer { coordinator.shutdown() }
        let first = try worker(1)
        let running = try coordinator.submit(RoutedRequest(tokenIDs: [1, 2, 3], params: SamplingParams(maxTokens: 4, temperature: 0)))
        let runningSubmit = try #require(try first.nextSubmit())
        let second = try worker(2)
        try first.send(.draining(deadlineMilliseconds: 30_000))
        try waitUntil { coordinator.workers().first { $0.id == 1 }?.isDraining == true }
        #expect(coordinator.workers().first { $0.id == 1 }?.isRoutable == false)

        let fresh = try coordinator.submit(RoutedRequest(tokenIDs: [9], params: Self.params))
        let (receiver, freshSubmit) = try #require(try firstSubmit(among: [first, second]))
        #expect(receiver === second)
        try second.complete(freshSubmit, tokens: [5])
        #expect(try await collect(fresh).tokens == [5])

        try first.send(.tokens([TokenOutput(requestID: runningSubmit.requestID, firstIndex: 0, tokenIDs: [7])]))
        usleep(100_000)
        try first.send(.leaving)
        let moved = try #require(try second.nextSubmit())
        #expect(moved.tokenIDs == [1, 2, 3, 7])
        try second.complete(moved, tokens: [8, 9, 10])
        #expect(try await collect(running).tokens == [7, 8, 9, 10])
        try waitUntil { coordinator.workers().map(\.id) == [2] }
    }

    /// What a worker that served a previous router process sees: its heartbeat gets
    /// `registerAgain` (once per second, however many it sends), its orphaned requests are
    /// aborted, and once registered its cache is resynchronised from a snapshot.
    @Test func aWorkerUnknownToARestartedRouterIsAskedToRegisterAgain() async throws {
        defer { coordinator.shutdown() }
        let worker = try FakeWorker(context: context, endpoint: coordinator.boundWorkerEndpoint, workerID: 5)
        try worker.heartbeat(sequence: 7)
        try worker.send(.tokens([TokenOutput(requestID: 41, firstIndex: 3, tokenIDs: [9])]))
        try worker.heartbeat(sequence: 7)
        var received: [RouterToWorker] = []
        while let message = try worker.receive(timeout: .milliseconds(300)) { received.append(message) }
        #expect(received.filter { $0 == .registerAgain }.count == 1, "\(received)")
        #expect(received.contains(.abort(requestID: 41)), "\(received)")
        #expect(coordinator.workers().isEmpty)

        #expect(try worker.register())
        try worker.heartbeat(sequence: 7)
        #expect(try worker.expect { $0 == .snapshotRequest ? true : nil } == true)
        #expect(coordinator.workers().map(\.id) == [5])
    }
}
