import PageHashing
import ServingTypes
import WireProtocol

/// Ways the scripted worker breaks the protocol on purpose.
struct WorkerFaults: OptionSet, Sendable {
    let rawValue: Int
    /// The first page of a chain is hashed without its namespace.
    static let chainWithoutNamespace = WorkerFaults(rawValue: 1 << 0)
    /// A stop token is sent but not counted in `completionTokens`.
    static let uncountedStopToken = WorkerFaults(rawValue: 1 << 1)
    /// The second `kvEvents` batch is numbered 3.
    static let skippedSequence = WorkerFaults(rawValue: 1 << 2)
}

/// A worker that follows docs/WIRE_PROTOCOL.md (unless told a fault) with a toy model: each
/// token follows from the one before. Pure: it returns the messages to send.
struct ScriptedWorkerState {
    struct Running {
        var submit: WorkerSubmit
        var tokens: [Int32] = []
        var cachedTokens: Int
        var last: Int32 { tokens.last ?? submit.tokenIDs.last ?? 0 }
    }

    let faults: WorkerFaults
    let registration = WorkerRegistration(
        workerID: 77, incarnation: .random(in: 1...(.max)), modelID: "scripted", modelFingerprint: "5c1e7ed",
        pageSize: 4, hashSeed: 0, tensorParallelSize: 1, capacityPages: 256, maxModelLength: 512)
    private var cache: ScriptedCache
    private var running: [UInt64: Running] = [:]
    private var isRegistered = false
    private var hasRun = false
    private var interval = Duration.milliseconds(100)
    private var nextRegistration = ContinuousClock.now
    private var nextHeartbeat = ContinuousClock.now
    private var sequence: UInt64 = 0
    private(set) var isDraining = false
    private(set) var hasLeft = false

    init(faults: WorkerFaults) {
        self.faults = faults
        cache = ScriptedCache(hasher: PageHasher(seed: 0, pageSize: 4), dropsNamespace: faults.contains(.chainWithoutNamespace))
    }

    /// The toy model: the next token after `token`, in 3..<100.
    static func next(after token: Int32) -> Int32 { 3 + (token &* 37 &+ 11) % 97 }

    mutating func tick(now: ContinuousClock.Instant) -> [WorkerToRouter] {
        if !isRegistered && now >= nextRegistration {
            nextRegistration = now.advanced(by: .milliseconds(200))
            return [.register(registration)]
        }
        guard isRegistered, now >= nextHeartbeat else { return [] }
        nextHeartbeat = now.advanced(by: interval)
        let load = LoadReport(
            runningCount: running.count, freePages: 256 - cache.count, evictablePages: cache.count, cachedPages: cache.count,
            totalPages: 256, prefillTokensPerSecond: hasRun ? 1000 : 0, decodeTokensPerSecond: hasRun ? 100 : 0)
        return [.heartbeat(WorkerHeartbeat(incarnation: registration.incarnation, sequence: sequence, load: load))]
    }

    mutating func receive(_ frame: [UInt8], now: ContinuousClock.Instant) -> [WorkerToRouter] {
        guard let message = try? RouterToWorker.decode(frame) else {
            guard let id = RouterToWorker.requestID(ofMalformed: frame) else { return [] }
            return [.failed(requestID: id, code: .malformedMessage, message: "malformed submit")]
        }
        switch message {
        case .registered(_, let milliseconds):
            isRegistered = true
            interval = .milliseconds(milliseconds)
            nextHeartbeat = now
        case .registerAgain:
            isRegistered = false
            nextRegistration = now
        case .submit(let submit): return accept(submit)
        case .abort(let id):
            guard let request = running.removeValue(forKey: id) else { return [] }
            return [finished(request, .abort)] + batch([cache.store(request.submit.tokenIDs + request.tokens.dropLast(), namespace: request.submit.params.namespace)])
        case .flushCache: return batch([cache.clear()])
        case .snapshotRequest:
            return [.snapshot(CacheSnapshot(incarnation: registration.incarnation, sequence: sequence, chains: cache.chains))]
        case .refused: break
        }
        return []
    }

    private mutating func accept(_ submit: WorkerSubmit) -> [WorkerToRouter] {
        let id = submit.requestID
        if isDraining { return [.failed(requestID: id, code: .unavailable, message: "draining")] }
        if running[id] != nil { return [.failed(requestID: id, code: .duplicateRequest, message: "request \(id) runs")] }
        let request = Running(submit: submit, cachedTokens: cache.cachedTokens(submit.tokenIDs, namespace: submit.params.namespace))
        do {
            try submit.params.validate()
        } catch {
            return [finished(request, .error(message: error.description))]
        }
        running[id] = request
        hasRun = true
        return batch([cache.store(submit.tokenIDs, namespace: submit.params.namespace)])
    }

    /// One decode step: a token for every running request, then the ends, then the cache events.
    mutating func step() -> [WorkerToRouter] {
        guard !running.isEmpty else { return leaveIfDrained() }
        var outputs: [TokenOutput] = []
        var ends: [WorkerToRouter] = []
        var events: [CacheEvent?] = []
        for id in running.keys.sorted() {
            var request = running[id]!
            let token = Self.next(after: request.last)
            outputs.append(TokenOutput(requestID: id, firstIndex: UInt32(request.tokens.count), tokenIDs: [token]))
            request.tokens.append(token)
            let params = request.submit.params
            let reason: FinishReason? = params.stopTokenIDs.contains(token)
                ? .stop(tokenID: token) : request.tokens.count >= params.maxTokens ? .length : nil
            guard let reason else {
                running[id] = request
                continue
            }
            running[id] = nil
            ends.append(finished(request, reason))
            events.append(cache.store(request.submit.tokenIDs + request.tokens.dropLast(), namespace: params.namespace))
        }
        return [.tokens(outputs)] + ends + batch(events)
    }

    /// SIGTERM: announce the drain; leave once idle.
    mutating func drain() -> [WorkerToRouter] {
        isDraining = true
        return [.draining(deadlineMilliseconds: 5000)] + leaveIfDrained()
    }

    private mutating func leaveIfDrained() -> [WorkerToRouter] {
        guard isDraining, running.isEmpty, !hasLeft else { return [] }
        hasLeft = true
        return [.leaving]
    }

    private func finished(_ request: Running, _ reason: FinishReason) -> WorkerToRouter {
        var completion = request.tokens.count
        if case .stop = reason, faults.contains(.uncountedStopToken) { completion -= 1 }
        return .finished(RequestFinish(
            requestID: request.submit.requestID, reason: reason, promptTokens: UInt32(request.submit.tokenIDs.count),
            completionTokens: UInt32(completion), cachedTokens: UInt32(request.cachedTokens)))
    }

    /// One `kvEvents` batch of the events that happened, or nothing.
    private mutating func batch(_ events: [CacheEvent?]) -> [WorkerToRouter] {
        let events = events.compactMap { $0 }
        guard !events.isEmpty else { return [] }
        sequence += sequence == 1 && faults.contains(.skippedSequence) ? 2 : 1
        return [.kvEvents(KVEventBatch(incarnation: registration.incarnation, sequence: sequence, events: events))]
    }
}
