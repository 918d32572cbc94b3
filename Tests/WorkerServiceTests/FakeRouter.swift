import BackendCatalog
import Backends
import Engine
import Foundation
import Models
import ProcessLogging
import Scheduling
import TestSupport
import Transport
import WireProtocol
import WorkerService

/// A ROUTER socket standing in for the router process, on a unique `ipc://` path.
/// Not thread-safe: use it on the test's thread only.
final class FakeRouter {
    let context: ZMQContext
    let socket: ZMQSocket
    let endpoint: String
    /// The routing id of the last worker heard from.
    private(set) var peer: [UInt8]?

    /// A router that binds a fresh `ipc://` endpoint for workers to connect to.
    init(context: ZMQContext) throws {
        self.context = context
        socket = try ZMQSocket(.router, context: context)
        endpoint = try socket.bind(Self.uniqueEndpoint())
    }

    /// A router that connects to a listening worker at `workerEndpoint`.
    init(context: ZMQContext, connectingTo workerEndpoint: String) throws {
        self.context = context
        socket = try ZMQSocket(.router, context: context)
        endpoint = try socket.connect(workerEndpoint)
    }

    static func uniqueEndpoint() -> String { "ipc:///tmp/rxs-worker-\(UUID().uuidString.prefix(13))" }

    deinit { socket.close() }

    /// The next decodable message from a worker, or `nil` after `timeout`.
    func receive(timeout: Duration = .seconds(30)) throws -> WorkerToRouter? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            guard let frames = try? socket.receive(timeout: min(deadline - clock.now, .milliseconds(100))) else { continue }
            guard frames.count == 2 else { continue }
            peer = frames[0]
            return try WorkerToRouter.decode(frames[1])
        }
        return nil
    }

    /// Receives until `match` returns a value (skipping other messages), or `nil` after `timeout`.
    func receive<T>(timeout: Duration = .seconds(60), until match: (WorkerToRouter) -> T?) throws -> T? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            guard let message = try receive(timeout: deadline - clock.now) else { return nil }
            if let value = match(message) { return value }
        }
        return nil
    }

    func send(_ message: RouterToWorker) throws { try sendRaw([message.encoded]) }

    /// Sends frames after the last peer's routing id.
    func sendRaw(_ frames: [[UInt8]]) throws {
        guard let peer else { throw WorkerServiceTestError.noPeer }
        try socket.send([peer] + frames, timeout: .seconds(5))
    }

    /// Waits for `register` and answers `registered`; returns the registration.
    func acceptRegistration(heartbeatMilliseconds: UInt32 = 1000) throws -> WorkerRegistration? {
        guard let registration = try receive(until: { message -> WorkerRegistration? in
            if case .register(let registration) = message { return registration }
            return nil
        }) else { return nil }
        try send(.registered(workerID: registration.workerID, heartbeatMilliseconds: heartbeatMilliseconds))
        return registration
    }

    /// Collects a request's tokens until its `finished` (or `failed`); `receivedCount` tokens
    /// were already seen.
    func collect(_ requestID: UInt64, receivedCount: Int = 0, timeout: Duration = .seconds(120)) throws
        -> (tokens: [Int32], end: WorkerToRouter?)
    {
        var tokens: [Int32] = []
        let end = try receive(timeout: timeout) { message -> WorkerToRouter? in
            switch message {
            case .tokens(let outputs):
                for output in outputs where output.requestID == requestID {
                    if Int(output.firstIndex) != receivedCount + tokens.count { return message }  // an index gap: fail loudly
                    tokens += output.tokenIDs
                }
                return nil
            case .finished(let finish) where finish.requestID == requestID: return message
            case .failed(let id, _, _) where id == requestID: return message
            default: return nil
            }
        }
        return (tokens, end)
    }
}

enum WorkerServiceTestError: Error { case noPeer }

/// A running worker (engine publishing cache events + endpoint) on fixture `llama-gqa`.
final class WorkerUnderTest {
    let engine: EngineLoop
    let endpoint: WorkerEndpoint
    let outbox: WorkerOutbox

    init(
        routerEndpoint: String, connection: RouterConnection = .connect, context: ZMQContext, workerID: UInt32 = 7,
        pages: Int = 256, registrationTimeout: Duration = .seconds(30), heartbeatInterval: Duration = .seconds(1)
    ) throws {
        let backend = try BackendCatalog.device(named: "cpu").makeBackend(threads: 1)
        let model = try LlamaModel(directory: Fixtures.model("llama-gqa"), backend: backend, maxStepTokens: 256)
        outbox = WorkerOutbox()
        engine = try EngineLoop(
            model: model,
            config: EngineConfig(
                pageSize: 4, kvMemory: .pages(pages), maxBatchedTokens: 64, isCheckingIntegrity: true,
                isPublishingKVEvents: true),
            sink: outbox.sink, cacheEventSink: outbox.cacheEventSink)
        endpoint = WorkerEndpoint(
            config: WorkerEndpointConfig(
                routerEndpoint: routerEndpoint, connection: connection, workerID: workerID, modelID: "llama-gqa",
                modelFingerprint: "fixture",
                registrationTimeout: registrationTimeout, registrationRetryInterval: .milliseconds(100),
                heartbeatInterval: heartbeatInterval, logger: .discarding()),
            engine: engine, outbox: outbox, context: context)
        try endpoint.start()
    }

    func stop() {
        endpoint.stop()
        engine.shutdown()
    }

    deinit { stop() }
}
