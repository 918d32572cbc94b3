import Foundation
import ServingTypes
import TestSupport
import Transport
import WireProtocol

/// What a ``ScriptedWorker`` does with one `submit`.
enum WorkerReply: Sendable {
    /// Sends each batch as one `tokens` message (with its log-probabilities, when given), then
    /// `finished` with `finish`, reporting `cached` prompt tokens served from its cache.
    case generate([[Int32]], logprobs: [[TokenLogprobs]] = [], finish: FinishReason = .length, cached: UInt32 = 0)
    /// Sends the batches, then keeps the request running until the router aborts it, and only
    /// then sends `finished` (reason `abort`), as a real worker does.
    case generateThenHold([[Int32]])
    /// Sends nothing until the router aborts the request.
    case hold
    /// Answers as `.generate(batches)` once `release` is signalled, heartbeating meanwhile (a
    /// script that blocked its thread instead would stop the heartbeats, and a slow host would
    /// see the router drop the worker).
    case generateWhenReleased(DispatchSemaphore, [[Int32]])
    /// Answers `failed` with `code`.
    case fail(WorkerFailureCode, String)
}

/// A worker on a thread of its own, built on ``TestSupport/FakeWorker``'s real DEALER socket: it
/// registers, heartbeats, answers each `submit` as `script` says, and records everything the
/// router sent it. For tests whose client (an HTTP request) blocks on the worker's answer.
final class ScriptedWorker: @unchecked Sendable {
    // @unchecked: `fake` is used only on the worker's thread (after `init` hands it over);
    // `state` is behind its lock.
    private let fake: FakeWorker
    private let script: @Sendable (WorkerSubmit) -> WorkerReply
    private let state = NSLock()
    private var isStopping = false
    private var messages: [RouterToWorker] = []
    private var registration: Bool?
    private let exited = DispatchSemaphore(value: 0)

    let workerID: UInt32
    /// Where it connected to, or where it listens (`listen`, port resolved).
    let endpoint: String

    /// Starts a worker connecting to the router at `endpoint`, or with `listen`, one that binds
    /// `endpoint` and registers once the router connects to it (`POST /workers`).
    init(
        context: ZMQContext, endpoint: String, listen: Bool = false, workerID: UInt32,
        script: @escaping @Sendable (WorkerSubmit) -> WorkerReply
    ) throws {
        fake = try FakeWorker(context: context, endpoint: endpoint, listen: listen, workerID: workerID)
        self.workerID = workerID
        self.endpoint = fake.endpoint
        self.script = script
        let thread = Thread { [self] in run() }
        thread.name = "scripted worker \(workerID)"
        thread.start()
    }

    /// Everything the router sent, in order.
    var received: [RouterToWorker] { state.withLock { messages } }

    /// The submits received, in order.
    var submits: [WorkerSubmit] {
        received.compactMap { message -> WorkerSubmit? in
            if case .submit(let submit) = message { return submit }
            return nil
        }
    }

    /// Request ids the router aborted.
    var aborts: [UInt64] {
        received.compactMap { message -> UInt64? in
            if case .abort(let id) = message { return id }
            return nil
        }
    }

    /// Whether the router accepted the registration (nil while unanswered).
    var isRegistered: Bool? { state.withLock { registration } }

    /// Stops the thread and closes the socket. Idempotent.
    func stop() {
        let first = state.withLock { () -> Bool in
            defer { isStopping = true }
            return !isStopping
        }
        if first { exited.wait() }
    }

    private var shouldStop: Bool { state.withLock { isStopping } }

    private func run() {
        defer {
            fake.socket.close()
            exited.signal()
        }
        do {
            // A listening worker's first send waits for the router to connect.
            while !shouldStop {
                do {
                    try fake.send(.register(fake.registration()))
                    break
                } catch {
                    continue
                }
            }
            var held: [UInt64: UInt32] = [:]  // request → tokens sent
            var waiting: [Release] = []
            var lastBeat = ContinuousClock.now
            while !shouldStop {
                while let ready = waiting.firstIndex(where: { $0.release.wait(timeout: .now()) == .success }) {
                    let entry = waiting.remove(at: ready)
                    try answer(entry.submit, .generate(entry.batches), held: &held, waiting: &waiting)
                }
                if state.withLock({ registration }) == true, ContinuousClock.now - lastBeat > .milliseconds(50) {
                    try fake.heartbeat()
                    lastBeat = ContinuousClock.now
                }
                guard let message = try fake.receive(timeout: .milliseconds(10)) else { continue }
                state.withLock { messages.append(message) }
                switch message {
                case .registered:
                    state.withLock { registration = true }
                    try fake.heartbeat()
                case .refused:
                    state.withLock { if registration == nil { registration = false } }
                case .submit(let submit):
                    try answer(submit, script(submit), held: &held, waiting: &waiting)
                case .abort(let id):
                    guard let sent = held.removeValue(forKey: id) else { break }
                    try fake.send(.finished(RequestFinish(
                        requestID: id, reason: .abort, promptTokens: UInt32(submit(id)?.tokenIDs.count ?? 0),
                        completionTokens: sent, cachedTokens: 0)))
                case .flushCache, .snapshotRequest, .registerAgain:
                    break
                }
            }
        } catch {
            state.withLock { messages.append(.refused(reason: "scripted worker \(workerID) failed: \(error)")) }
        }
    }

    /// A request answered as `.generate(batches)` once `release` is signalled.
    private typealias Release = (submit: WorkerSubmit, release: DispatchSemaphore, batches: [[Int32]])

    private func submit(_ id: UInt64) -> WorkerSubmit? { submits.last { $0.requestID == id } }

    /// Answers `submit` as `reply` says: requests held until aborted go to `held`, those held until
    /// released to `waiting`.
    private func answer(
        _ submit: WorkerSubmit, _ reply: WorkerReply, held: inout [UInt64: UInt32],
        waiting: inout [Release]
    ) throws {
        func stream(_ batches: [[Int32]], _ logprobs: [[TokenLogprobs]]) throws -> UInt32 {
            var index: UInt32 = 0
            for (number, batch) in batches.enumerated() {
                try fake.send(.tokens([TokenOutput(
                    requestID: submit.requestID, firstIndex: index, tokenIDs: batch,
                    logprobs: number < logprobs.count ? logprobs[number] : [])]))
                index += UInt32(batch.count)
            }
            return index
        }
        switch reply {
        case .generate(let batches, let logprobs, let finish, let cached):
            let count = try stream(batches, logprobs)
            try fake.send(.finished(RequestFinish(
                requestID: submit.requestID, reason: finish, promptTokens: UInt32(submit.tokenIDs.count),
                completionTokens: count, cachedTokens: cached)))
        case .generateThenHold(let batches):
            held[submit.requestID] = try stream(batches, [])
        case .hold:
            held[submit.requestID] = 0
        case .fail(let code, let message):
            try fake.send(.failed(requestID: submit.requestID, code: code, message: message))
        case .generateWhenReleased(let release, let batches):
            waiting.append((submit, release, batches))
        }
    }
}
