import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RouterCore
import RouterHTTP
import ServingTypes
import Testing
import TestSupport
import WireProtocol

/// Per-key admission through the real routes: 429 with `Retry-After` and an OpenAI error, the
/// priority queue's order, key-file limits, and the figures in `/metrics`.
@Suite struct AdmissionHTTPTests {
    static let access = APIAccess(userKeys: [.init(name: "alice", secret: "sk-alice-0001"), .init(name: "bob", secret: "sk-bob-00002")])

    static func completion(maxTokens: Int, priority: Int? = nil) -> ByteBuffer {
        ByteBuffer(string: #"{"prompt":"Hello world","max_tokens":\#(maxTokens)\#(priority.map { #","priority":\#($0)"# } ?? "")}"#)
    }

    static func post(_ client: any TestClientProtocol, key: String, _ body: ByteBuffer, uri: String = "/v1/completions") async throws -> TestResponse {
        try await client.execute(
            uri: uri, method: .post, headers: [.contentType: "application/json", .authorization: "Bearer \(key)"], body: body)
    }

    /// A worker whose request with `max_tokens` 1 waits for `release` before answering (still
    /// heartbeating).
    static func holdingWorker(_ harness: RouterHarness, release: DispatchSemaphore) async throws -> ScriptedWorker {
        try await harness.worker { submit in
            let answer = [Array(Served.generatedIDs.prefix(1))]
            return submit.params.maxTokens == 1 ? .generateWhenReleased(release, answer) : .generate(answer)
        }
    }

    @Test func aKeyOverItsConcurrencyLimitGets429WithRetryAfterWhileAnotherKeyIsServed() async throws {
        let gate = AdmissionGate(bounds: AdmissionBounds(), defaults: KeyLimits(maxConcurrentRequests: 1), knownKeys: ["alice", "bob"])
        try await RouterHarness.run(access: Self.access, admission: gate) { harness, client in
            let release = DispatchSemaphore(value: 0)
            let worker = try await Self.holdingWorker(harness, release: release)
            async let held = Self.post(client, key: "sk-alice-0001", Self.completion(maxTokens: 1))
            try await waitUntil("alice's first request reached the worker", timeout: .seconds(60)) { worker.submits.count == 1 }
            let refused = try await Self.post(client, key: "sk-alice-0001", Self.completion(maxTokens: 2))
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] == "1")
            let error = try #require(try refused.json()["error"] as? [String: Any])
            #expect(error["type"] as? String == "rate_limit_error" && error["code"] as? String == "concurrency_limit_exceeded")
            #expect((error["message"] as? String)?.contains("'alice'") == true)
            release.signal()
            #expect(try await held.status == .ok)
            #expect(try await Self.post(client, key: "sk-bob-00002", Self.completion(maxTokens: 2)).status == .ok)
            #expect(try await Self.post(client, key: "sk-alice-0001", Self.completion(maxTokens: 2)).status == .ok, "alice's slot came back")
            let metrics = try await client.get("/metrics").text
            #expect(metrics.contains(#"radixserve_router_key_requests_rejected_total{key="alice",reason="concurrency"} 1"#))
            #expect(metrics.contains(#"radixserve_router_key_requests_admitted_total{key="alice"} 2"#))
            #expect(metrics.contains(#"radixserve_router_key_requests_admitted_total{key="bob"} 1"#))
            #expect(metrics.contains(#"radixserve_router_key_max_concurrent_requests{key="bob"} 1"#))
            #expect(metrics.contains("radixserve_router_admission_running 0"))
        }
    }

    @Test func tokensPerMinuteChargePromptPlusMaxTokens() async throws {
        let gate = AdmissionGate(bounds: AdmissionBounds(), defaults: KeyLimits(tokensPerMinute: 100), knownKeys: ["alice", "bob"])
        try await RouterHarness.run(access: Self.access, admission: gate) { harness, client in
            _ = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            // "Hello world" is 5 prompt tokens: 5 + 60 of 100.
            let start = ContinuousClock.now
            #expect(try await Self.post(client, key: "sk-alice-0001", Self.completion(maxTokens: 60)).status == .ok)
            let refused = try await Self.post(client, key: "sk-alice-0001", Self.completion(maxTokens: 60))
            let elapsed = Double((ContinuousClock.now - start).components.seconds) + 1
            #expect(refused.status == .tooManyRequests)
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            // 30 more tokens at 100 per minute: 18 s, less the refill of the time the first request took
            // (0.6 s per token; a loaded host can take seconds).
            let earliest = max(1, Int((30 - elapsed * 100 / 60) * 0.6) - 1)
            #expect((earliest...18).contains(retryAfter), "Retry-After \(retryAfter) after \(elapsed) s")
            #expect((try refused.json()["error"] as? [String: Any])?["code"] as? String == "rate_limit_exceeded")
            let tooLarge = try await Self.post(client, key: "sk-bob-00002", Self.completion(maxTokens: 200))
            #expect(tooLarge.status == .badRequest && tooLarge.headers[.retryAfter] == nil)
            #expect((try tooLarge.json()["error"] as? [String: Any])?["code"] as? String == "request_too_large")
            #expect(try await Self.post(client, key: "sk-bob-00002", Self.completion(maxTokens: 60)).status == .ok, "bob has his own bucket")
            let metrics = try await client.get("/metrics").text
            #expect(metrics.contains(#"radixserve_router_key_tokens_charged_total{key="alice"} 65"#))
            #expect(metrics.contains(#"radixserve_router_key_requests_rejected_total{key="bob",reason="too_large"} 1"#))
            #expect(metrics.contains(#"radixserve_router_key_tokens_per_minute{key="alice"} 100"#))
        }
    }

    @Test func aFreedSlotGoesToTheHigherPriorityWhicheverEndpointAndOrder() async throws {
        let gate = AdmissionGate(bounds: AdmissionBounds(maxRunningRequests: 1, maxQueuedRequests: 2), knownKeys: ["alice", "bob"])
        try await RouterHarness.run(access: Self.access, admission: gate) { harness, client in
            let release = DispatchSemaphore(value: 0)
            let worker = try await Self.holdingWorker(harness, release: release)
            async let first = Self.post(client, key: "sk-alice-0001", Self.completion(maxTokens: 1))
            try await waitUntil("the first request runs", timeout: .seconds(60)) { worker.submits.count == 1 }
            async let low = Self.post(client, key: "sk-alice-0001", Self.completion(maxTokens: 3, priority: -1))
            try await waitUntil("the low-priority request waits", timeout: .seconds(60)) { gate.figures().queued == 1 }
            async let high = Self.post(
                client, key: "sk-bob-00002", ByteBuffer(string: #"{"text":"Hello world","sampling_params":{"max_new_tokens":2},"priority":7}"#),
                uri: "/generate")
            try await waitUntil("both wait", timeout: .seconds(60)) { gate.figures().queued == 2 }
            let full = try await Self.post(client, key: "sk-bob-00002", Self.completion(maxTokens: 4))
            #expect(full.status == .tooManyRequests && full.headers[.retryAfter] == "1")
            #expect((try full.json()["error"] as? [String: Any])?["code"] as? String == "queue_full")
            release.signal()
            let statuses = try await [first.status, low.status, high.status]
            #expect(statuses == [.ok, .ok, .ok])
            #expect(worker.submits.map(\.params.maxTokens) == [1, 2, 3], "the priority 7 request ran before the priority -1 one")
        }
    }

    @Test func aQueuedRequestTimesOutWith429() async throws {
        let gate = AdmissionGate(bounds: AdmissionBounds(maxRunningRequests: 1, maxQueuedRequests: 4, maxQueueWait: .milliseconds(300)))
        try await RouterHarness.run(admission: gate) { harness, client in
            let release = DispatchSemaphore(value: 0)
            let worker = try await Self.holdingWorker(harness, release: release)
            async let first = client.post("/v1/completions", #"{"prompt":"Hello world","max_tokens":1}"#)
            try await waitUntil("the first request runs", timeout: .seconds(60)) { worker.submits.count == 1 }
            let waited = try await client.post("/v1/completions", #"{"prompt":"Hello world","max_tokens":2}"#)
            #expect(waited.status == .tooManyRequests)
            #expect((try waited.json()["error"] as? [String: Any])?["code"] as? String == "queue_timeout")
            release.signal()
            #expect(try await first.status == .ok)
            let metrics = try await client.get("/metrics").text
            #expect(metrics.contains(#"radixserve_router_key_requests_rejected_total{key="anonymous",reason="queue_timeout"} 1"#))
            #expect(gate.figures().running == 0 && gate.figures().queued == 0)
        }
    }

    @Test func keyFilesCarryLimitsAndBadLimitsFailNamingTheLine() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("keys").path
        func write(_ text: String) throws {
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            chmod(file, 0o600)
        }
        try write("team-a sk-team-a-001 max_concurrent_requests=4 tokens_per_minute=9000\nteam-b sk-team-b-002\n")
        let access = try APIAccess.load(keyFiles: [file], environment: [:])
        #expect(access.userKeys.map(\.limits) == [KeyLimits(maxConcurrentRequests: 4, tokensPerMinute: 9000), KeyLimits()])
        let gate = AdmissionFlags(keyMaxConcurrentRequests: 2, keyTokensPerMinute: 1000).gate(access: access)
        let keys = gate.figures().keys
        #expect(keys["team-a"]?.limits == KeyLimits(maxConcurrentRequests: 4, tokensPerMinute: 9000))
        #expect(keys["team-b"]?.limits == KeyLimits(maxConcurrentRequests: 2, tokensPerMinute: 1000))
        func failure(_ text: String) throws -> String {
            try write(text)
            do {
                _ = try APIAccess.load(keyFiles: [file], environment: [:])
                return "loaded"
            } catch { return "\(error)" }
        }
        #expect(try failure("a sk-team-a-001 tokens_per_minute=0\n").contains("line 1: 'tokens_per_minute=0' is not NAME=N"))
        #expect(try failure("a sk-team-a-001 burst=3\n").contains("unknown limit 'burst'"))
        #expect(try failure("a sk-team-a-001 tokens_per_minute=5 tokens_per_minute=6\n").contains("given twice"))
        #expect(AdmissionFlags(maxRunningRequests: 0).problem == "--max-running-requests must be in 1...1000000, got 0")
        #expect(AdmissionFlags(maxQueueWait: .infinity).problem?.contains("--max-queue-wait") == true)
        #expect(AdmissionFlags(keyTokensPerMinute: 0).problem == "--key-tokens-per-minute must be at least 1, got 0")
        #expect(AdmissionFlags().problem == nil)
    }
}
