import Foundation
import Testing
import TestSupport

/// The client commands (`generate --url`, `chat`, `workers`, `bench --url`) as a user runs them:
/// flag validation, clear failures, and output against a scripted router on loopback.
@Suite struct ClientCLITests {
    /// The environment of a machine without the bundled model: client commands must not need it.
    private static let noModel = ["RADIXSERVE_MODEL": "/nonexistent/model"]

    private func run(_ arguments: [String]) throws -> ProcessHarness.Outcome {
        try ProcessHarness.run(arguments, timeout: 60, environment: Self.noModel)
    }

    // MARK: - Validation

    @Test(arguments: [
        (["generate", "--url", "ftp://127.0.0.1:1", "--prompt", "hi"], "scheme 'ftp' is not http"),
        (["generate", "--url", "127.0.0.1:8080", "--prompt", "hi"], "expected http://HOST:PORT"),
        (["generate", "--url", "http://127.0.0.1:1", "--prompt", "hi", "--tp", "2"], "--tp"),
        (["generate", "--url", "http://127.0.0.1:1", "--prompts-file", "p.jsonl"], "--prompts-file cannot be combined with --url"),
        (["generate", "--url", "http://127.0.0.1:1", "--prompt", "hi", "--stop-token-id", "5"], "use --stop TEXT"),
        (["generate", "--url", "http://127.0.0.1:1", "--prompt", "hi", "--model", "/x"], "--model-name"),
        (["generate", "--url", "http://127.0.0.1:1", "--prompt", "hi", "--timeout", "0"], "--timeout must be positive"),
        (["generate", "--url", "https://127.0.0.1:1", "--prompt", "hi", "--ca-file", "/no/ca.pem"], "--ca-file /no/ca.pem: no such file"),
        (["generate", "--prompt", "hi", "--stop", "x"], "need --url"),
        (["chat", "--message", "hi"], "--url is required"),
        (["workers", "list"], "--url is required"),
        (["workers", "remove", "--url", "http://127.0.0.1:1"], "Missing expected argument '<id>'"),
        (["workers", "add", "--url", "http://127.0.0.1:1", "--endpoint", "10.0.0.5:7000"], "tcp://HOST:PORT"),
        (["workers", "add", "--url", "http://127.0.0.1:1"], "Missing expected argument '--endpoint"),
        (["bench", "--url", "http://127.0.0.1:1", "--workload", "offline"], "shared-prefix, multi-turn or random, got 'offline'"),
        (["bench", "--url", "http://127.0.0.1:1", "--workload", "bogus"], "got 'bogus'"),
        (["bench", "--url", "http://127.0.0.1:1", "--concurrency", "1,8"], "one number of requests in flight"),
        (["bench", "--url", "http://127.0.0.1:1", "--vocab-range", "1000:100"], "--vocab-range"),
        (["bench", "--url", "http://127.0.0.1:1", "--turns", "0"], "--turns"),
        (["bench", "--workload", "multi-turn"], "need --url"),
        (["bench", "--workload", "matmul", "--rows", "1,x"], "--rows must be"),
        (["bench", "--workload", "matmul", "--rows", "0"], "--rows must be"),
        (["bench", "--url", "http://127.0.0.1:1", "--schedule-policy", "lpm"], "--schedule-policy cannot be combined"),
        (["bench", "--schedule-policy", "sjf"], "--schedule-policy"),
        (["router", "--recompute-weight=-1"], "--recompute-weight must be in 0...100"),
        (["up", "--recompute-weight", "nan"], "--recompute-weight must be in 0...100"),
    ])
    func invalidFlagsFailBeforeAnyRequest(arguments: [String], expected: String) throws {
        let outcome = try run(arguments)
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains(expected), "\(outcome.standardError)")
        #expect(outcome.standardOutput.isEmpty)
    }

    @Test(arguments: [
        ["generate", "--prompt", "hi"], ["chat", "--message", "hi"], ["workers", "list"], ["bench"],
    ])
    func connectionRefusedNamesTheURL(command: [String]) throws {
        let port = try ScriptedHTTPServer.unusedPort()
        let outcome = try run(command + ["--url", "http://127.0.0.1:\(port)"])
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains("could not connect to http://127.0.0.1:\(port): connection refused"),
            "\(outcome.standardError)")
    }

    @Test func serverErrorsShowTheServersMessage() throws {
        let server = try ScriptedHTTPServer { _ in
            [.send(ScriptedHTTPServer.errorResponse(
                status: 404, reason: "Not Found", message: "no worker 7", type: "not_found"))]
        }
        defer { server.stop() }
        let outcome = try run(["workers", "remove", "--url", server.url, "7"])
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains("DELETE /workers/7 failed with HTTP 404 Not Found: no worker 7"))
    }

    // MARK: - Against a scripted router

    /// Answers `/v1/models`, `/workers` and streaming completions and chats: each generates
    /// `max_tokens` pieces `w0 w1 …`; a chat's first piece counts the messages it was sent.
    private static func router() throws -> ScriptedHTTPServer {
        try ScriptedHTTPServer { request in
            switch request.path {
            case "/v1/models":
                return [.send(ScriptedHTTPServer.response(body: #"{"object":"list","data":[{"id":"demo","max_model_len":4096}]}"#))]
            case "/workers":
                return [.send(ScriptedHTTPServer.response(body: #"{"workers":[{"id":0,"endpoint":"tcp://127.0.0.1:7001","routable":true,"draining":false,"model":"demo","tensor_parallel_size":1,"max_model_len":4096,"running":2,"waiting":1,"free_pages":900,"evictable_pages":10,"cached_pages":40,"total_pages":1024,"prefill_tokens_per_second":5321.7,"decode_tokens_per_second":80.5,"in_flight":3,"incarnation":1,"cache_events":"verified"}]}"#))]
            default:
                let json = request.jsonObject ?? [:]
                let isChat = request.path == "/v1/chat/completions"
                let count = json["max_tokens"] as? Int ?? 1
                let promptCount = (json["prompt"] as? [Int])?.count ?? 1
                var events: [String] = []
                for index in 0..<count {
                    let piece = isChat && index == 0 ? "[\((json["messages"] as? [Any])?.count ?? 0)] " : "w\(index) "
                    let field = isChat ? #""delta":{"content":"\#(piece)"}"# : #""text":"\#(piece)""#
                    events.append(#"{"model":"demo","choices":[{"index":0,\#(field),"finish_reason":\#(index == count - 1 ? #""length""# : "null")}]}"#)
                }
                events.append(#"{"choices":[],"usage":{"prompt_tokens":\#(promptCount),"completion_tokens":\#(count),"total_tokens":\#(promptCount + count),"prompt_tokens_details":{"cached_tokens":0}}}"#)
                let body = ScriptedHTTPServer.events(events)
                return [.send(ScriptedHTTPServer.eventStreamHead()), .send(ScriptedHTTPServer.chunk(body)), .send(ScriptedHTTPServer.lastChunk)]
            }
        }
    }

    @Test func generateStreamsTheRoutersText() throws {
        let server = try Self.router()
        defer { server.stop() }
        let outcome = try run(["generate", "--url", server.url, "--prompt", "Once", "--max-tokens", "3", "--temperature", "0.7"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardOutput == "w0 w1 w2 \n")
        let request = try #require(server.requests.last?.jsonObject)
        #expect(request["prompt"] as? String == "Once")
        #expect(request["model"] as? String == "demo")
        #expect(request["temperature"] as? Double == 0.7)
        #expect(request["stream"] as? Bool == true)
    }

    @Test func chatKeepsTheConversation() throws {
        let server = try Self.router()
        defer { server.stop() }
        let outcome = try run(["chat", "--url", server.url, "--system", "Be brief.", "--message", "Hi", "--message", "And?",
            "--max-tokens", "2"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        // Turn 1 sends system + user; turn 2 adds the first answer and the new question.
        #expect(outcome.standardOutput == "[2] w1 \n[4] w1 \n")
        let last = try #require(server.requests.last?.jsonObject?["messages"] as? [[String: String]])
        #expect(last.map { $0["role"] ?? "" } == ["system", "user", "assistant", "user"])
        #expect(last[2]["content"] == "[2] w1 ")
    }

    @Test func workersListPrintsATable() throws {
        let server = try Self.router()
        defer { server.stop() }
        let outcome = try run(["workers", "list", "--url", server.url])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let lines = outcome.standardOutput.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("ID  ENDPOINT"))
        #expect(lines[1].hasPrefix("0   tcp://127.0.0.1:7001  demo"))
        #expect(lines[1].contains("900/1024") && lines[1].hasSuffix("verified"))
    }

    @Test func benchReportsEveryRequest() throws {
        let server = try Self.router()
        defer { server.stop() }
        let outcome = try run(["bench", "--url", server.url, "--groups", "2", "--per-group", "3", "--system-tokens", "16",
            "--question-tokens", "4", "--output-tokens", "3", "--concurrency", "2", "--json"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any])
        #expect(report["workload"] as? String == "shared-prefix")
        #expect(report["completed"] as? Int == 6)
        #expect(report["failed"] as? Int == 0)
        #expect(report["completion_tokens"] as? Int == 18)
        #expect(report["prompt_tokens"] as? Int == 120)
        // /v1/models, two warm-up requests, six measured ones.
        #expect(server.requests.count == 9)
    }
}
