import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ProcessLogging
import RouterHTTP
import RouterService
import ServingTypes
import Synchronization
import TestSupport
import Testing
import Tokenizers
import Transport
import WireProtocol

/// The fixture model the router serves: llama-gqa's real tokenizer and chat template.
enum Served {
    static let directory = Fixtures.model("llama-gqa")
    static let tokenizer: any Tokenizer = try! AutoTokenizer.load(directory: directory)
    static let model = ServedModel(
        id: "llama-gqa", tokenizer: tokenizer, chatPrompt: try! ChatPromptBuilder(directory: directory, tokenizer: tokenizer),
        maxModelLength: 512, vocabularySize: 821, created: 1_700_000_000)

    /// transformers' tokens of "Hello world" with the BOS it adds (`reference.json`).
    static let helloWorldTokens: [Int32] = [816, 39, 322, 270, 572]
    static let bos: Int32 = 816
    static let endOfTurn: Int32 = 820

    /// Token ids of `text` (no special tokens): what scripted workers "generate".
    static func ids(_ text: String) -> [Int32] { tokenizer.encode(text, addSpecialTokens: false).map(Int32.init) }
    static func text(_ ids: [Int32]) -> String { tokenizer.decode(ids.map(Int.init), skipSpecialTokens: false) }

    /// What the scripted workers generate in most tests, and its ids.
    static let generated = " The quick brown fox"
    static let generatedIDs = ids(generated)
}

/// A real ``RouterCoordinator`` (worker socket on an ephemeral port) behind the real
/// ``RouterHTTPServer`` routes, with scripted workers in-process.
final class RouterHarness: Sendable {
    let context: ZMQContext
    let coordinator: RouterCoordinator
    let server: RouterHTTPServer
    private let started = Mutex<[ScriptedWorker]>([])
    private static let nextWorkerID = Atomic<UInt32>(1)

    init(maxInFlightRequests: Int = 4096, access: APIAccess = .open, admission: AdmissionGate? = nil) throws {
        context = try ZMQContext()
        var config = RouterServiceConfig(
            workerEndpoint: "tcp://127.0.0.1:*", modelID: Served.model.id, modelFingerprint: "fp", pageSize: 4, hashSeed: 0,
            maxModelLength: Served.model.maxModelLength, heartbeatInterval: .milliseconds(100),
            // Liveness is not under test here: a loaded machine must never make a worker look dead.
            missedHeartbeatLimit: 200, maxAttempts: 3, maxInFlightRequests: maxInFlightRequests, seed: 1, logger: .discarding())
        config.eosTokenIDs = [Served.endOfTurn]
        coordinator = RouterCoordinator(config: config, context: context)
        try coordinator.start()
        server = RouterHTTPServer(coordinator: coordinator, model: Served.model, access: access, admission: admission)
    }

    /// Runs `body` against the routes (in-process with `.router`, over a socket with `.live`),
    /// then stops the workers and the coordinator.
    static func run(
        _ setup: TestingSetup = .router, maxInFlightRequests: Int = 4096, access: APIAccess = .open,
        admission: AdmissionGate? = nil, _ body: @Sendable (RouterHarness, any TestClientProtocol) async throws -> Void
    ) async throws {
        let harness = try RouterHarness(maxInFlightRequests: maxInFlightRequests, access: access, admission: admission)
        defer { harness.close() }
        let app = Application(router: harness.server.makeRouter())
        try await app.test(setup) { client in try await body(harness, client) }
    }

    func close() {
        coordinator.shutdown()
        for worker in started.withLock({ $0 }) { worker.stop() }
    }

    /// A registered, routable worker answering as `script` says.
    func worker(_ script: @escaping @Sendable (WorkerSubmit) -> WorkerReply) async throws -> ScriptedWorker {
        let id = Self.nextWorkerID.wrappingAdd(1, ordering: .relaxed).oldValue
        let worker = try ScriptedWorker(context: context, endpoint: coordinator.boundWorkerEndpoint, workerID: id, script: script)
        started.withLock { $0.append(worker) }
        try await waitUntil("worker \(id) is routable") { coordinator.workers().contains { $0.id == id && $0.isRoutable } }
        return worker
    }

    /// A worker listening on an ephemeral port, not yet known to the router.
    func listeningWorker(_ script: @escaping @Sendable (WorkerSubmit) -> WorkerReply) throws -> ScriptedWorker {
        let id = Self.nextWorkerID.wrappingAdd(1, ordering: .relaxed).oldValue
        let worker = try ScriptedWorker(context: context, endpoint: "tcp://127.0.0.1:*", listen: true, workerID: id, script: script)
        started.withLock { $0.append(worker) }
        return worker
    }
}

/// Polls `condition` until it holds; records an issue after `timeout`.
func waitUntil(
    _ what: String, timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () -> Bool
) async throws {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out waiting until \(what)", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}

// MARK: - Requests and responses

extension TestClientProtocol {
    func post(_ uri: String, _ json: String) async throws -> TestResponse {
        try await execute(uri: uri, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: json))
    }

    func get(_ uri: String) async throws -> TestResponse { try await execute(uri: uri, method: .get) }
}

/// A JSON object decoded loosely, to check exactly which fields a response has.
typealias JSONObject = [String: Any]

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body as a JSON object.
    func json(sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONObject {
        let value = try JSONSerialization.jsonObject(with: Data(body.readableBytesView), options: [.fragmentsAllowed])
        return try #require(value as? JSONObject, "not a JSON object: \(text)", sourceLocation: sourceLocation)
    }

    /// The Server-Sent Events of a streamed body: each `data:` payload but the closing `[DONE]`,
    /// as JSON objects. Records an issue unless the stream is well formed and ends with `[DONE]`.
    func events(sourceLocation: SourceLocation = #_sourceLocation) throws -> [JSONObject] {
        #expect(headers[.contentType] == "text/event-stream", sourceLocation: sourceLocation)
        var frames = text.components(separatedBy: "\n\n")
        #expect(frames.last == "", "the body must end with a blank line: \(text)", sourceLocation: sourceLocation)
        frames.removeAll { $0.isEmpty }
        #expect(frames.last == "data: [DONE]", "the stream must end with [DONE]: \(text)", sourceLocation: sourceLocation)
        return try frames.dropLast().map { frame in
            let payload = try #require(frame.hasPrefix("data: ") ? frame.dropFirst(6) : nil, "not an SSE data frame: \(frame)")
            let value = try JSONSerialization.jsonObject(with: Data(payload.utf8))
            return try #require(value as? JSONObject, "event is not an object: \(frame)", sourceLocation: sourceLocation)
        }
    }

    /// Checks an OpenAI-style error: the status and `{"error": {message, type, param, code}}`
    /// with exactly those keys (`param` and `code` explicitly null when absent). Returns the message.
    @discardableResult
    func expectError(
        _ status: HTTPResponse.Status, type: String, param: String?, code: String?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        #expect(self.status == status, "body: \(text)", sourceLocation: sourceLocation)
        #expect(headers[.contentType] == "application/json", sourceLocation: sourceLocation)
        let body = try json(sourceLocation: sourceLocation)
        #expect(Set(body.keys) == ["error"], sourceLocation: sourceLocation)
        let error = try #require(body["error"] as? JSONObject, sourceLocation: sourceLocation)
        #expect(Set(error.keys) == ["message", "type", "param", "code"], "\(error)", sourceLocation: sourceLocation)
        #expect(error["type"] as? String == type, "\(error)", sourceLocation: sourceLocation)
        if let param {
            #expect(error["param"] as? String == param, "\(error)", sourceLocation: sourceLocation)
        } else {
            #expect(error["param"] is NSNull, "\(error)", sourceLocation: sourceLocation)
        }
        if let code {
            #expect(error["code"] as? String == code, "\(error)", sourceLocation: sourceLocation)
        } else {
            #expect(error["code"] is NSNull, "\(error)", sourceLocation: sourceLocation)
        }
        let message = try #require(error["message"] as? String, sourceLocation: sourceLocation)
        #expect(!message.isEmpty, sourceLocation: sourceLocation)
        return message
    }
}

/// Reads nested JSON: `value(json, "choices", 0, "text")`.
func value(_ root: Any?, _ path: Any...) -> Any? {
    var current = root
    for step in path {
        switch step {
        case let key as String: current = (current as? JSONObject)?[key]
        case let index as Int:
            guard let array = current as? [Any], array.indices.contains(index) else { return nil }
            current = array[index]
        default: return nil
        }
    }
    return current
}
