// RadixServe: the worker conformance kit: the router's side of the wire protocol, with checks.

import PageHashing
import ServingTypes
import WireProtocol

/// Plays the router against a worker under test (written in any language) and checks what it
/// sends against docs/WIRE_PROTOCOL.md: registration, heartbeats, generation, prefix caching,
/// stop and length limits, refusals, aborts, cache events, snapshots, flushes, a router restart
/// and, when the kit started the worker, its drain on SIGTERM.
///
/// Every message from the worker is applied as it arrives (``apply(_:)``): the request records,
/// heartbeats and the cache replay are checked all along, and each check waits for what it needs
/// (at most ``WorkerConformanceOptions/timeout`` per wait). A check that fails does not stop the
/// later ones; a worker that exits or falls silent does.
///
/// Not thread-safe: create and run it on one thread. It blocks that thread for the whole run, and
/// a worker it started is tied to that thread (see ``SpawnedWorker``).
public final class WorkerConformance {
    let options: WorkerConformanceOptions
    let socket: RouterSocket
    let clock = ContinuousClock()
    var worker: (any WorkerProcessControl)?
    var report = ConformanceReport()
    /// The check running now; stray problems count against it.
    var current = ConformanceCheck.registration
    private var writer = WireWriter(capacity: 4096)
    private var notedProblems: Set<String> = []

    // MARK: What arrived

    /// Every `register`, with when it arrived.
    var registrations: [(registration: WorkerRegistration, at: ContinuousClock.Instant)] = []
    /// When the kit last answered `registered`.
    var registeredAt: ContinuousClock.Instant?
    /// Whether a `register` is answered with `registered` at once (off while the router restart is played).
    var answersRegistrations = true
    var heartbeats: [HeartbeatRecord] = []
    var requests: [UInt64: RequestRecord] = [:]
    /// The worker's cache, rebuilt from its events (from the first usable `register` on).
    var replay: CacheReplay?
    var snapshots: [SnapshotRecord] = []
    /// `draining`'s deadline and the message count when it arrived.
    var draining: (deadlineMilliseconds: UInt32, message: Int)?
    /// The message count when `leaving` arrived.
    var leavingMessage: Int?
    /// Messages received so far.
    var messageCount = 0
    var lastMessageAt: ContinuousClock.Instant
    /// Why the worker can no longer be checked (it exited or fell silent), once it cannot.
    var workerGone: String?
    /// Whether a finished request's prompt pages were found not held (the kit then stops waiting for them).
    var isPromptHeldProblemNoted = false
    var nextRequestID: UInt64 = 1
    var hasSubmitted = false

    /// Opens the kit's socket. Throws ``ConformanceError`` when the endpoint cannot be used.
    public init(options: WorkerConformanceOptions) throws(ConformanceError) {
        self.options = options
        socket = try RouterSocket(endpoint: options.endpoint)
        lastMessageAt = clock.now
    }

    /// Runs a worker command (when given) against `options` and returns the report; the worker is
    /// stopped before this returns.
    public static func run(options: WorkerConformanceOptions, command: [String]?) throws(ConformanceError) -> ConformanceReport {
        let kit = try WorkerConformance(options: options)
        let worker = try command.map { (command) throws(ConformanceError) in try SpawnedWorker(command: command) }
        return kit.run(worker: worker)
    }

    /// Runs every check against the worker on the socket; `worker` is the process the kit
    /// started, if any (needed by `drain`), stopped before this returns.
    public func run(worker: (any WorkerProcessControl)? = nil) -> ConformanceReport {
        self.worker = worker
        defer { worker?.forceStop() }
        let isUsable = checkRegistration()
        if isUsable {
            checkHeartbeats()
            let generated = checkGenerate()
            checkPrefixCache(after: generated)
            checkMaxTokens()
            checkStopToken(after: generated)
            checkInvalidRequest()
            checkMalformedSubmit()
            checkLongRequest()
            checkSnapshot()
            checkFlush()
            checkReregistration()
            checkDrain()
        }
        finishRunWideChecks(isUsable: isUsable)
        return report
    }

    // MARK: Helpers for the checks

    /// Starts `check`: false (with a skip recorded) when the worker cannot be checked any more.
    func begin(_ check: ConformanceCheck) -> Bool {
        current = check
        if let workerGone {
            report.skip(check, workerGone)
            return false
        }
        return true
    }

    /// Records `problem` against `check` once per `key` (a worker that repeats a mistake in every
    /// heartbeat gets one line).
    func noteOnce(_ check: ConformanceCheck, key: String, _ problem: String) {
        guard notedProblems.insert("\(check.rawValue)/\(key)").inserted else { return }
        report.fail(check, problem)
    }

    /// `length` tokens drawn from `3 ..< min(vocabularySize, 100)`, the same for the same seed.
    func prompt(length: Int, seed: UInt64) -> [Int32] {
        var random = SeededRandom(seed: seed)
        let range = UInt64(min(options.vocabularySize, 100) - 3)
        return (0..<length).map { _ in Int32(3 + random.next() % range) }
    }

    /// The registration the checks run against (the first `register`).
    var registration: WorkerRegistration? { registrations.first?.registration }

    /// Tokens per page; valid once ``registration`` is usable.
    var pageSize: Int { Int(registration?.pageSize ?? 1) }

    func send(_ message: RouterToWorker) {
        message.encode(into: &writer)
        sendFrame(writer.bytes)
    }

    func sendFrame(_ frame: [UInt8]) {
        do {
            try socket.send(frame)
        } catch {
            noteOnce(current, key: "send", "could not send to the worker: \(error)")
        }
    }

    /// Submits a request for `check` and returns its id.
    @discardableResult
    func submit(_ prompt: [Int32], _ params: SamplingParams, for check: ConformanceCheck) -> UInt64 {
        let id = nextRequestID
        nextRequestID += 1
        requests[id] = RequestRecord(id: id, check: check, prompt: prompt, params: params)
        replay?.learn(id: id, tokens: prompt, namespace: params.namespace)
        hasSubmitted = true
        send(.submit(WorkerSubmit(requestID: id, tokenIDs: prompt, params: params)))
        return id
    }

    /// A fresh request id that names no request (for probes the kit expects no answer to).
    func unusedRequestID() -> UInt64 {
        defer { nextRequestID += 1 }
        return nextRequestID
    }

    /// Receives and applies messages until `condition` holds (true) or `timeout` (default: the
    /// options' timeout) passes, or the worker exits or falls silent (false). Messages already
    /// on their way are applied before an exit counts.
    @discardableResult
    func wait(_ timeout: Duration? = nil, until condition: () -> Bool) -> Bool {
        let deadline = clock.now.advanced(by: timeout ?? options.timeout)
        while !condition() {
            let now = clock.now
            if workerGone != nil || now >= deadline { return false }
            switch socket.receive(timeout: min(deadline - now, .milliseconds(50))) {
            case .frame(let frame)?: apply(frame)
            case .unexpected(let what)?: noteOnce(current, key: what, "the worker sent \(what)")
            case nil:
                if let exit = worker?.exit() {
                    workerGone = "the worker exited (\(exit))"
                } else if clock.now - lastMessageAt >= options.timeout {
                    workerGone = "the worker sent nothing for \(options.timeout)"
                }
            }
        }
        return true
    }

    /// Applies whatever arrives for `duration`.
    func listen(for duration: Duration) { wait(duration) { false } }
}
