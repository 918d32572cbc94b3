import Foundation
import ServingTypes
import Transport
import WireProtocol

/// A scripted worker: a DEALER socket that registers and then answers as each test directs.
/// Not thread-safe: use it from one thread (the test's, or one thread of its own).
package final class FakeWorker {
    package let socket: ZMQSocket
    package let workerID: UInt32
    package let incarnation: UInt64
    private var writer = WireWriter(capacity: 1024)
    package private(set) var isRegistered = false

    /// The endpoint it connected to, or the one it listens on (port resolved).
    package let endpoint: String

    /// A worker that connects to the router at `endpoint` (its routing id is its worker id), or
    /// with `listen`, one that binds `endpoint` and waits for the router to connect (`worker
    /// --listen`; no routing id of its own: the router names the connection).
    package init(
        context: ZMQContext, endpoint: String, listen: Bool = false, workerID: UInt32,
        incarnation: UInt64 = .random(in: 1...(.max))
    ) throws {
        socket = try ZMQSocket(.dealer, context: context)
        if !listen { try socket.setRoutingID(withUnsafeBytes(of: workerID.littleEndian) { Array($0) }) }
        socket.setLingerOnClose(.zero)
        self.endpoint = listen ? try socket.bind(endpoint) : try socket.connect(endpoint)
        self.workerID = workerID
        self.incarnation = incarnation
    }

    deinit { socket.close() }

    package func registration(fingerprint: String = "fp", pageSize: UInt32 = 4, capacityPages: UInt32 = 1024) -> WorkerRegistration {
        WorkerRegistration(
            workerID: workerID, incarnation: incarnation, modelID: "fake", modelFingerprint: fingerprint, pageSize: pageSize,
            hashSeed: 0, tensorParallelSize: 1, capacityPages: capacityPages, maxModelLength: 4096)
    }

    package func send(_ message: WorkerToRouter) throws {
        message.encode(into: &writer)
        try socket.send(writer.bytes, timeout: .seconds(5))
    }

    package func sendRaw(_ bytes: [UInt8]) throws { try socket.send(bytes, timeout: .seconds(5)) }

    /// The next message from the router within `timeout`, or nil.
    package func receive(timeout: Duration = .seconds(10)) throws -> RouterToWorker? {
        guard let frame = try? socket.receiveFrame(timeout: timeout) else { return nil }
        return try RouterToWorker.decode(frame)
    }

    /// Skips messages until `match` returns a value (or the timeout passes). A registered worker
    /// keeps heartbeating while it waits, so a slow machine never makes it look dead.
    package func expect<T>(timeout: Duration = .seconds(10), _ match: (RouterToWorker) -> T?) throws -> T? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            guard let message = try receive(timeout: min(deadline - ContinuousClock.now, .milliseconds(50))) else {
                if isRegistered { try heartbeat() }
                continue
            }
            if let value = match(message) { return value }
        }
        return nil
    }

    /// Registers and waits for `registered`; then sends one heartbeat so the router has a load report.
    package func register(fingerprint: String = "fp") throws -> Bool {
        try send(.register(registration(fingerprint: fingerprint)))
        let accepted = try expect { message -> Bool? in
            switch message {
            case .registered: true
            case .refused: false
            default: nil
            }
        }
        if accepted == true {
            isRegistered = true
            try heartbeat()
        }
        return accepted ?? false
    }

    package func heartbeat(sequence: UInt64 = 0, running: Int = 0) throws {
        try send(.heartbeat(WorkerHeartbeat(
            incarnation: incarnation, sequence: sequence, load: LoadReport(
                runningCount: running, freePages: 1024, totalPages: 1024, prefillTokensPerSecond: 1000,
                decodeTokensPerSecond: 100))))
    }

    /// Waits for the next `submit`.
    package func nextSubmit(timeout: Duration = .seconds(10)) throws -> WorkerSubmit? {
        try expect(timeout: timeout) { message in
            if case .submit(let submit) = message { return submit }
            return nil
        }
    }

    /// Streams `tokens` then finishes the request.
    package func complete(_ submit: WorkerSubmit, tokens: [Int32], cached: UInt32 = 0) throws {
        try send(.tokens([TokenOutput(requestID: submit.requestID, firstIndex: 0, tokenIDs: tokens)]))
        try send(.finished(RequestFinish(
            requestID: submit.requestID, reason: .length, promptTokens: UInt32(submit.tokenIDs.count),
            completionTokens: UInt32(tokens.count), cachedTokens: cached)))
    }
}
