import Logging
import PageHashing
import RouterCore
import ServingTypes
import Testing
import WireProtocol

@testable import RouterService

/// One request's lifecycle, driven by events alone (no sockets, no streams). Reservations come
/// from a real ``RouterState`` and every `.release` is handed back to it, so a double release
/// or a leak shows up in its registry.
@Suite struct RequestLifecycleTests {
    typealias Action = RequestLifecycle.Action

    static let prompt: [Int32] = [1, 2, 3]
    static let params = SamplingParams(maxTokens: 4, temperature: 0)
    static let eos: Int32 = 99

    /// One lifecycle and the router state that hands out its reservations; checks, on every
    /// event, that each reservation is released once and the stream ends once with nothing after.
    struct Driver {
        static let workers = (1...3).map { WorkerID(UInt32($0)) }
        var router: RouterState
        var lifecycle: RequestLifecycle
        /// Stream-ending actions seen (finish, fail or close).
        private(set) var endings: [Action] = []
        /// Tokens the current attempt delivered (for in-order `firstIndex`es).
        private(set) var attemptOutputCount = 0

        init(params: SamplingParams = RequestLifecycleTests.params, maxAttempts: Int = 3) {
            router = RouterState(hasher: PageHasher(seed: 0, pageSize: 4))
            for worker in Self.workers { _ = router.addWorker(worker, incarnation: 1, totalPages: 10_000, lastSequence: 0, now: .seconds(0)) }
            lifecycle = RequestLifecycle(
                requestID: 7, prompt: RequestLifecycleTests.prompt, params: params,
                stopRule: StopRule(eosTokenIDs: [RequestLifecycleTests.eos], maxModelLength: 64), maxAttempts: maxAttempts)
        }

        /// A reservation on `worker`, chosen by the router with every other worker excluded.
        mutating func decision(on worker: UInt32) -> RouteDecision {
            let others = Set(Self.workers).subtracting([WorkerID(worker)])
            return router.route(tokens: RequestLifecycleTests.prompt[...], namespace: 0, outputTokens: 4, now: .seconds(0), excluding: others)!
        }

        /// Dispatches the request to `worker`, returning the reservation.
        @discardableResult
        mutating func dispatch(on worker: UInt32) -> RouteDecision {
            let chosen = decision(on: worker)
            feed { $0.dispatched(chosen) }
            return chosen
        }

        /// Feeds one event and checks its actions against the invariants.
        @discardableResult
        mutating func feed(_ event: (inout RequestLifecycle) -> [Action]) -> [Action] {
            let actions = event(&lifecycle)
            for action in actions {
                switch action {
                case .release(let decision):
                    let released = router.finish(decision)
                    #expect(released, "a reservation was released twice")
                case .finishStream, .failStream, .closeStream:
                    #expect(endings.isEmpty, "the stream ended twice: \(endings) then \(action)")
                    endings.append(action)
                case .yieldTokens(let tokens, _, _):
                    #expect(endings.isEmpty, "tokens yielded after the stream ended")
                    attemptOutputCount += tokens.count
                case .sendSubmit:
                    attemptOutputCount = 0
                default:
                    break
                }
            }
            return actions
        }

        /// Tokens from `worker`, indexed after what its attempt already delivered.
        @discardableResult
        mutating func tokens(_ ids: [Int32], from worker: UInt32) -> [Action] {
            let output = TokenOutput(requestID: 7, firstIndex: UInt32(attemptOutputCount), tokenIDs: ids)
            return feed { $0.tokensArrived(output, from: WorkerID(worker)) }
        }

        /// Whether every reservation went back to the router.
        var isBalanced: Bool { router.registry.outstandingCount == 0 }
    }

    static func finish(_ completionTokens: UInt32, reason: FinishReason = .length, cached: UInt32 = 0) -> RequestFinish {
        RequestFinish(requestID: 7, reason: reason, promptTokens: 3, completionTokens: completionTokens, cachedTokens: cached)
    }

    static func submit(_ tokens: [Int32], maxTokens: Int = 4, resumed: UInt32 = 0) -> WorkerSubmit {
        var params = Self.params
        params.maxTokens = maxTokens
        return WorkerSubmit(requestID: 7, tokenIDs: tokens, params: params, resumedOutputCount: resumed)
    }

    // MARK: - Normal progress

    @Test func streamsTokensAndFinishesWithTheWorkersUsage() {
        var driver = Driver()
        let first = driver.decision(on: 1)
        #expect(driver.feed { $0.dispatched(first) } == [.sendSubmit(Self.submit(Self.prompt), to: WorkerID(1))])
        #expect(driver.lifecycle.worker == WorkerID(1))
        #expect(driver.tokens([7, 8], from: 1) == [.prefillCompleted(first), .yieldTokens([7, 8], logprobs: [], isFirst: true)])
        #expect(driver.tokens([9], from: 1) == [.yieldTokens([9], logprobs: [], isFirst: false)])
        // A resend overlapping what was delivered yields only what is new.
        let overlap = TokenOutput(requestID: 7, firstIndex: 2, tokenIDs: [9, 10])
        #expect(driver.feed { $0.tokensArrived(overlap, from: WorkerID(1)) } == [.yieldTokens([10], logprobs: [], isFirst: false)])
        #expect(driver.feed { $0.tokensArrived(overlap, from: WorkerID(1)) }.isEmpty)
        let done = driver.feed { $0.workerFinished(Self.finish(4, cached: 9), from: WorkerID(1)) }
        #expect(done == [
            .release(first), .record(.processed(by: WorkerID(1))),
            .record(.completed(promptTokens: 3, generatedTokens: 4, cachedTokens: 3)),
            .finishStream(RoutedFinish(reason: .length, promptTokens: 3, completionTokens: 4, cachedTokens: 3, workerID: 1, attempts: 1)),
        ])
        #expect(driver.lifecycle.isDone && driver.lifecycle.worker == nil && driver.isBalanced)
    }

    @Test func anErrorFinishCountsAsFailedButIsDelivered() {
        var driver = Driver()
        driver.dispatch(on: 1)
        let done = driver.feed { $0.workerFinished(Self.finish(0, reason: .error(message: "bad")), from: WorkerID(1)) }
        #expect(done.contains(.record(.failed)))
        #expect(done.last == .finishStream(RoutedFinish(
            reason: .error(message: "bad"), promptTokens: 3, completionTokens: 0, cachedTokens: 0, workerID: 1, attempts: 1)))
        #expect(driver.isBalanced)
    }

    @Test func messagesFromAWorkerThatDoesNotOwnTheRequestAreIgnored() {
        var driver = Driver()
        let first = driver.dispatch(on: 1)
        let stray = TokenOutput(requestID: 7, firstIndex: 0, tokenIDs: [5])
        #expect(driver.feed { $0.tokensArrived(stray, from: WorkerID(2)) }.isEmpty)
        #expect(driver.feed { $0.workerFinished(Self.finish(1), from: WorkerID(2)) }.isEmpty)
        #expect(driver.feed { $0.workerFailed(code: .internalError, message: "x", from: WorkerID(2)) }.isEmpty)
        #expect(driver.feed { $0.workerLost(WorkerID(2), reason: "gone") }.isEmpty)
        #expect(driver.feed { $0.sendFailed(to: WorkerID(2)) }.isEmpty)
        #expect(driver.lifecycle.state == .running(.init(decision: first, resumeOffset: 0)))
        driver.feed { $0.shutdown() }
        #expect(driver.isBalanced)
    }

    // MARK: - Retries

    @Test func aFailedWorkerIsExcludedFromTheRetry() {
        var driver = Driver()
        let first = driver.dispatch(on: 1)
        let failed = driver.feed { $0.workerFailed(code: .unavailable, message: "shutting down", from: WorkerID(1)) }
        #expect(failed == [
            .log(.warning, "worker-1 could not run request 7 (unavailable): shutting down", worker: WorkerID(1)),
            .release(first),
            .route(tokenIDs: Self.prompt, params: Self.params, excluding: [WorkerID(1)]),
        ])
        #expect(driver.lifecycle.worker == nil, "between attempts nobody owns the request")
        let second = driver.decision(on: 2)
        #expect(driver.feed { $0.dispatched(second) } == [.record(.retried), .sendSubmit(Self.submit(Self.prompt), to: WorkerID(2))])
        // The first worker's late tokens and finish no longer count.
        #expect(driver.feed { $0.tokensArrived(TokenOutput(requestID: 7, firstIndex: 0, tokenIDs: [5]), from: WorkerID(1)) }.isEmpty)
        #expect(driver.feed { $0.workerFinished(Self.finish(1), from: WorkerID(1)) }.isEmpty)
        driver.tokens([4], from: 2)
        let done = driver.feed { $0.workerFinished(Self.finish(1), from: WorkerID(2)) }
        #expect(done.last == .finishStream(RoutedFinish(
            reason: .length, promptTokens: 3, completionTokens: 1, cachedTokens: 0, workerID: 2, attempts: 2)))
        #expect(driver.isBalanced)
    }

    @Test func anInvalidRequestFailsWithoutARetry() {
        var driver = Driver()
        let first = driver.dispatch(on: 1)
        let failed = driver.feed { $0.workerFailed(code: .invalidRequest, message: "token id 900000 out of range", from: WorkerID(1)) }
        #expect(failed == [.release(first), .record(.failed), .failStream(.failed("token id 900000 out of range"))])
        #expect(driver.isBalanced)
    }

    @Test func aLostWorkersStreamedRequestIsPrefilledAgainWithItsTokens() {
        var driver = Driver()
        let first = driver.dispatch(on: 1)
        driver.tokens([40, 41], from: 1)
        let lost = driver.feed { $0.workerLost(WorkerID(1), reason: "worker-1 stopped responding") }
        #expect(lost == [
            .record(.recoveredAfterStreaming), .release(first),
            .route(tokenIDs: [1, 2, 3, 40, 41], params: Self.params, excluding: [WorkerID(1)]),
        ])
        let second = driver.decision(on: 2)
        #expect(driver.feed { $0.dispatched(second) } == [
            .record(.retried), .sendSubmit(Self.submit([1, 2, 3, 40, 41], maxTokens: 2, resumed: 2), to: WorkerID(2)),
        ])
        // The new worker counts its output from 0; its first tokens end its prefill.
        #expect(driver.tokens([42], from: 2) == [.prefillCompleted(second), .yieldTokens([42], logprobs: [], isFirst: false)])
        driver.tokens([43], from: 2)
        let done = driver.feed { $0.workerFinished(Self.finish(2), from: WorkerID(2)) }
        #expect(done.contains(.record(.completed(promptTokens: 3, generatedTokens: 4, cachedTokens: 0))))
        #expect(done.last == .finishStream(RoutedFinish(
            reason: .length, promptTokens: 3, completionTokens: 4, cachedTokens: 0, workerID: 2, attempts: 2)))
        #expect(driver.lifecycle.generated == [40, 41, 42, 43] && driver.isBalanced)
    }

    @Test func aFailedSendIsRetriedElsewhere() {
        var driver = Driver()
        let first = driver.dispatch(on: 1)
        let failed = driver.feed { $0.sendFailed(to: WorkerID(1)) }
        #expect(failed == [.release(first), .route(tokenIDs: Self.prompt, params: Self.params, excluding: [WorkerID(1)])])
        // Nobody else can take it.
        #expect(driver.feed { $0.noWorkerAvailable() } == [
            .record(.failed), .failStream(.failed("no other worker could take the request after the request could not be sent to worker-1")),
        ])
        #expect(driver.isBalanced)
    }

    @Test func spentAttemptsFailTheRequest() {
        var driver = Driver(maxAttempts: 2)
        driver.dispatch(on: 1)
        driver.feed { $0.workerFailed(code: .internalError, message: "oom", from: WorkerID(1)) }
        let second = driver.dispatch(on: 2)
        let failed = driver.feed { $0.workerFailed(code: .internalError, message: "oom", from: WorkerID(2)) }
        #expect(failed == [
            .log(.warning, "worker-2 could not run request 7 (internalError): oom", worker: WorkerID(2)),
            .release(second), .record(.failed), .failStream(.failed("the request failed on 2 workers; last: worker-2: oom")),
        ])
        #expect(driver.lifecycle.excluded == [WorkerID(1), WorkerID(2)] && driver.isBalanced)
    }

    @Test func aLossAfterTheStopTokenFinishesInsteadOfRetrying() {
        var params = Self.params
        params.maxTokens = 8
        params.stopTokenIDs = [77]
        var driver = Driver(params: params)
        let first = driver.dispatch(on: 1)
        driver.tokens([40, 77], from: 1)
        let lost = driver.feed { $0.workerLost(WorkerID(1), reason: "worker-1 left") }
        #expect(lost == [
            .record(.recoveredAfterStreaming), .release(first),
            .finishStream(RoutedFinish(reason: .stop(tokenID: 77), promptTokens: 3, completionTokens: 2, cachedTokens: 0, workerID: 1, attempts: 1)),
        ])
        #expect(driver.lifecycle.isDone && driver.isBalanced)
    }

    @Test func aFailureAfterEverythingAskedForFinishesWithLength() {
        var driver = Driver()
        driver.dispatch(on: 1)
        driver.tokens([5, 6, 7, 8], from: 1)
        let failed = driver.feed { $0.workerFailed(code: .unavailable, message: "bye", from: WorkerID(1)) }
        #expect(failed.last == .finishStream(RoutedFinish(
            reason: .length, promptTokens: 3, completionTokens: 4, cachedTokens: 0, workerID: 1, attempts: 1)))
        #expect(!failed.contains { if case .route = $0 { true } else { false } })
        #expect(driver.isBalanced)
    }

    // MARK: - Stop and cancel

    @Test func aStopAbortsOnTheWorkerAndItsFinishStillArrives() {
        var driver = Driver()
        driver.dispatch(on: 1)
        driver.tokens([5, 6], from: 1)
        #expect(driver.feed { $0.stopMatched() } == [.sendAbort(to: WorkerID(1))])
        #expect(driver.feed { $0.stopMatched() }.isEmpty)
        #expect(driver.tokens([7], from: 1) == [.yieldTokens([7], logprobs: [], isFirst: false)])
        let done = driver.feed { $0.workerFinished(Self.finish(3, reason: .abort), from: WorkerID(1)) }
        #expect(done.last == .finishStream(RoutedFinish(
            reason: .abort, promptTokens: 3, completionTokens: 3, cachedTokens: 0, workerID: 1, attempts: 1)))
        #expect(driver.isBalanced)
    }

    @Test func aStoppedRequestWhoseWorkerGoesAwayEndsWithWhatStreamed() {
        let events: [(inout RequestLifecycle) -> [Action]] = [
            { $0.workerLost(WorkerID(1), reason: "gone") },
            { $0.workerFailed(code: .unavailable, message: "bye", from: WorkerID(1)) },
            { $0.sendFailed(to: WorkerID(1)) },
        ]
        for event in events {
            var driver = Driver()
            let first = driver.dispatch(on: 1)
            driver.tokens([5], from: 1)
            driver.feed { $0.stopMatched() }
            #expect(driver.feed(event) == [
                .release(first),
                .finishStream(RoutedFinish(reason: .abort, promptTokens: 3, completionTokens: 1, cachedTokens: 0, workerID: 1, attempts: 1)),
            ])
            #expect(driver.isBalanced)
        }
    }

    @Test func aCancelAbortsOnTheWorkerAndNothingIsYieldedAfter() {
        var driver = Driver()
        let first = driver.dispatch(on: 1)
        driver.tokens([5], from: 1)
        #expect(driver.feed { $0.clientCancelled() } == [.closeStream, .sendAbort(to: WorkerID(1))])
        #expect(driver.feed { $0.clientCancelled() }.isEmpty)
        #expect(driver.feed { $0.stopMatched() }.isEmpty)
        #expect(driver.tokens([6], from: 1).isEmpty)
        #expect(driver.lifecycle.worker == WorkerID(1), "the worker keeps the load until it lets go")
        #expect(!driver.isBalanced)
        // Its late finish only releases the load and counts the abort.
        let late = driver.feed { $0.workerFinished(Self.finish(2, reason: .abort), from: WorkerID(1)) }
        #expect(late == [.release(first), .record(.processed(by: WorkerID(1))), .record(.aborted)])
        #expect(driver.feed { $0.workerFinished(Self.finish(2, reason: .abort), from: WorkerID(1)) }.isEmpty)
        #expect(driver.endings == [.closeStream] && driver.isBalanced)
    }

    @Test func aCancelledRequestIsLetGoWhenItsWorkerFailsOrGoesAway() {
        let cases: [(event: (inout RequestLifecycle) -> [Action], expected: [Action.Kind])] = [
            ({ $0.workerFailed(code: .internalError, message: "x", from: WorkerID(1)) }, [.release]),
            ({ $0.sendFailed(to: WorkerID(1)) }, [.release]),
            ({ $0.workerLost(WorkerID(1), reason: "gone") }, [.release, .aborted]),
            ({ $0.shutdown() }, [.release]),
        ]
        for (event, expected) in cases {
            var driver = Driver()
            driver.dispatch(on: 1)
            driver.feed { $0.stopMatched() }
            driver.feed { $0.clientCancelled() }
            #expect(driver.feed(event).map(\.kind) == expected)
            #expect(driver.lifecycle.isDone && driver.endings == [.closeStream] && driver.isBalanced)
        }
    }

    @Test func shutdownFailsEveryOpenRequest() {
        var running = Driver()
        let first = running.dispatch(on: 1)
        #expect(running.feed { $0.shutdown() } == [.release(first), .record(.failed), .failStream(.shuttingDown)])
        #expect(running.feed { $0.shutdown() }.isEmpty)

        var stopping = Driver()
        let second = stopping.dispatch(on: 2)
        stopping.feed { $0.stopMatched() }
        #expect(stopping.feed { $0.shutdown() } == [.release(second), .record(.failed), .failStream(.shuttingDown)])
        #expect(running.isBalanced && stopping.isBalanced)
    }

    // MARK: - Every path

    enum Event: CaseIterable {
        case tokens, finish, fail, failInvalid, lost, sendFailed, cancel, stop, strayTokens
    }

    /// Every sequence of up to four events, each retry dispatched wherever the router chooses,
    /// and then a shutdown: the stream ends exactly once and every reservation comes back once.
    @Test func everyPathReleasesEachReservationOnceAndEndsTheStreamOnce() {
        var sequences: [[Event]] = [[]]
        var longest: [[Event]] = [[]]
        for _ in 0..<4 {
            longest = longest.flatMap { prefix in Event.allCases.map { prefix + [$0] } }
            sequences += longest
        }
        for sequence in sequences {
            var driver = Driver(maxAttempts: 2)
            driver.dispatch(on: 1)
            for event in sequence {
                let owner = driver.lifecycle.worker ?? WorkerID(1)
                var actions: [Action]
                switch event {
                case .tokens: actions = driver.tokens([5], from: owner.rawValue)
                case .finish: actions = driver.feed { $0.workerFinished(Self.finish(1), from: owner) }
                case .fail: actions = driver.feed { $0.workerFailed(code: .internalError, message: "x", from: owner) }
                case .failInvalid: actions = driver.feed { $0.workerFailed(code: .invalidRequest, message: "x", from: owner) }
                case .lost: actions = driver.feed { $0.workerLost(owner, reason: "gone") }
                case .sendFailed: actions = driver.feed { $0.sendFailed(to: owner) }
                case .cancel: actions = driver.feed { $0.clientCancelled() }
                case .stop: actions = driver.feed { $0.stopMatched() }
                case .strayTokens: actions = driver.tokens([6], from: owner.rawValue % 3 + 1)
                }
                while case .route(let tokens, _, let excluding)? = actions.last {
                    let decision = driver.router.route(tokens: tokens[...], namespace: 0, outputTokens: 4, now: .seconds(0), excluding: excluding)
                    actions = decision.map { decision in driver.feed { $0.dispatched(decision) } } ?? driver.feed { $0.noWorkerAvailable() }
                }
            }
            driver.feed { $0.shutdown() }
            #expect(driver.lifecycle.isDone, "\(sequence)")
            #expect(driver.endings.count == 1, "\(sequence)")
            #expect(driver.isBalanced, "\(sequence)")
        }
    }
}

extension RequestLifecycle.Action {
    /// An action without its payload, for comparing shapes.
    enum Kind: Hashable { case release, aborted, other }

    var kind: Kind {
        switch self {
        case .release: .release
        case .record(.aborted): .aborted
        default: .other
        }
    }
}
