import Foundation
import ServingClient
import ServingTypes
import Testing
import TestSupport

/// Typed endpoint calls against scripted responses in the router's wire format.
@Suite struct RouterClientTests {
    private func client(_ server: ScriptedHTTPServer, readTimeout: Duration = .seconds(10)) throws -> RouterClient {
        RouterClient(url: try ServingURL(server.url), connectTimeout: .seconds(5), readTimeout: readTimeout)
    }

    private static let completionChunks = [
        #"{"id":"cmpl-9","object":"text_completion","created":1,"model":"demo","choices":[{"index":0,"text":"Hel","finish_reason":null,"logprobs":null}]}"#,
        #"{"id":"cmpl-9","object":"text_completion","created":1,"model":"demo","choices":[{"index":0,"text":"","finish_reason":null}]}"#,
        #"{"id":"cmpl-9","object":"text_completion","created":1,"model":"demo","choices":[{"index":0,"text":"lo ✓","finish_reason":"stop"}]}"#,
        #"{"id":"cmpl-9","object":"text_completion","created":1,"model":"demo","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":8}}}"#,
    ]

    /// The whole stream, chunked, cut into `size`-byte sends (splitting UTF-8, CRLFs and events).
    private static func splitStream(_ events: [String], size: Int) -> [ScriptedHTTPServer.Step] {
        let body = ScriptedHTTPServer.events(events)
        var bytes = ScriptedHTTPServer.eventStreamHead()
        var start = 0
        while start < body.count {
            let end = min(start + 5, body.count)
            bytes += ScriptedHTTPServer.chunk(Array(body[start..<end]))
            start = end
        }
        bytes += ScriptedHTTPServer.lastChunk
        return stride(from: 0, to: bytes.count, by: size).map { .send(Array(bytes[$0..<min($0 + size, bytes.count)])) }
    }

    @Test(arguments: [1, 3, 17, 4096])
    func streamsCompletionTextUsageAndTiming(sendSize: Int) throws {
        let script = Self.splitStream(Self.completionChunks, size: sendSize)
        let server = try ScriptedHTTPServer { _ in script }
        defer { server.stop() }
        var pieces: [String] = []
        let request = CompletionRequest(model: "demo", prompt: .text("Say hi"), sampling: SamplingFields(maxTokens: 3))
        let streamed = try client(server).streamCompletion(request) { pieces.append($0) }
        #expect(pieces == ["Hel", "lo ✓"])
        #expect(streamed.completion.text == "Hello ✓")
        #expect(streamed.completion.id == "cmpl-9")
        #expect(streamed.completion.model == "demo")
        #expect(streamed.completion.finishReason == "stop")
        #expect(streamed.completion.usage == Usage(promptTokens: 12, completionTokens: 3, totalTokens: 15, cachedTokens: 8))
        // "Hel", the held-back token and "lo ✓" are three output chunks; the usage chunk is not.
        #expect(streamed.outputArrivals.count == 3)
        #expect(streamed.interTokenLatencies.count == 2)
        let ttft = try #require(streamed.timeToFirstToken)
        #expect(ttft > .zero && ttft <= streamed.latency)
    }

    @Test func sendsTheOpenAIRequestBody() throws {
        let script = Self.splitStream(Self.completionChunks, size: 4096)
        let server = try ScriptedHTTPServer { _ in script }
        defer { server.stop() }
        let sampling = SamplingFields(
            maxTokens: 8, temperature: 0.5, topP: 0.9, topK: 20, minP: 0.05, seed: 7, stop: ["\n\n"],
            frequencyPenalty: 0.1, presencePenalty: 0.2, repetitionPenalty: 1.1, ignoreEOS: true)
        _ = try client(server).streamCompletion(
            CompletionRequest(
                model: "demo", prompt: .tokenIDs([1, 2, 3]), sampling: sampling, logprobs: 2, returnTokenIDs: true))
        let json = try #require(server.requests.first?.jsonObject)
        #expect(json["model"] as? String == "demo")
        #expect(json["prompt"] as? [Int] == [1, 2, 3])
        #expect(json["max_tokens"] as? Int == 8)
        #expect(json["temperature"] as? Double == 0.5)
        #expect(json["top_p"] as? Double == 0.9)
        #expect(json["top_k"] as? Int == 20)
        #expect(json["min_p"] as? Double == 0.05)
        #expect(json["seed"] as? Int == 7)
        #expect(json["stop"] as? [String] == ["\n\n"])
        #expect(json["frequency_penalty"] as? Double == 0.1)
        #expect(json["presence_penalty"] as? Double == 0.2)
        #expect(json["repetition_penalty"] as? Double == 1.1)
        #expect(json["ignore_eos"] as? Bool == true)
        #expect(json["logprobs"] as? Int == 2)
        #expect(json["stream"] as? Bool == true)
        #expect((json["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
        #expect(json["return_token_ids"] as? Bool == true)
    }

    @Test func leavesOffFieldsAtTheirDefaults() throws {
        let server = try ScriptedHTTPServer { _ in
            [.send(ScriptedHTTPServer.response(body: #"{"id":"c","choices":[{"index":0,"text":"ok","finish_reason":"length"}]}"#))]
        }
        defer { server.stop() }
        let completion = try client(server).complete(
            CompletionRequest(model: nil, prompt: .text("hi"), sampling: SamplingFields(maxTokens: 2)))
        #expect(completion.text == "ok")
        #expect(completion.usage == nil)
        let json = try #require(server.requests.first?.jsonObject)
        #expect(Set(json.keys) == ["prompt", "max_tokens", "stream"])
        #expect(json["stream"] as? Bool == false)
    }

    @Test func streamsChatDeltasAfterTheRoleChunk() throws {
        let chunks = [
            #"{"id":"chat-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}"#,
            #"{"id":"chat-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Bon"},"finish_reason":null}]}"#,
            #"{"id":"chat-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"jour"},"finish_reason":"stop"}]}"#,
            #"{"id":"chat-1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":2,"total_tokens":22,"prompt_tokens_details":null}}"#,
        ]
        let script = Self.splitStream(chunks, size: 7)
        let server = try ScriptedHTTPServer { _ in script }
        defer { server.stop() }
        var pieces: [String] = []
        let request = ChatCompletionRequest(
            model: "demo", messages: [.system("Be brief."), .user("Greet me")], sampling: SamplingFields(maxTokens: 4))
        let streamed = try client(server).streamChat(request) { pieces.append($0) }
        #expect(pieces == ["Bon", "jour"])
        #expect(streamed.completion.finishReason == "stop")
        #expect(streamed.completion.usage?.cachedTokens == nil)
        #expect(streamed.outputArrivals.count == 2)
        let sent = try #require(server.requests.first)
        #expect(sent.path == "/v1/chat/completions")
        let messages = try #require(sent.jsonObject?["messages"] as? [[String: String]])
        #expect(messages == [["role": "system", "content": "Be brief."], ["role": "user", "content": "Greet me"]])
    }

    @Test func nonStreamingChatReadsTheMessage() throws {
        let body = #"{"id":"chat-2","object":"chat.completion","model":"demo","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":0}}}"#
        let server = try ScriptedHTTPServer { _ in [.send(ScriptedHTTPServer.response(body: body, isChunked: true))] }
        defer { server.stop() }
        let completion = try client(server).chat(
            ChatCompletionRequest(model: nil, messages: [.user("hello")], sampling: SamplingFields()))
        #expect(completion == Completion(
            id: "chat-2", model: "demo", text: "Hi!", finishReason: "stop",
            usage: Usage(promptTokens: 9, completionTokens: 2, cachedTokens: 0)))
    }

    @Test func streamEndingBeforeDoneIsAnError() throws {
        // The server closes a chunked stream after one event: no terminal chunk, no [DONE].
        let script: [ScriptedHTTPServer.Step] = [
            .send(ScriptedHTTPServer.eventStreamHead()),
            .send(ScriptedHTTPServer.chunk(Array("data: \(Self.completionChunks[0])\n\n".utf8))),
        ]
        let server = try ScriptedHTTPServer { _ in script }
        defer { server.stop() }
        var pieces: [String] = []
        let error = try #require(throws: ServingClientError.self) {
            try client(server).streamCompletion(
                CompletionRequest(model: nil, prompt: .text("x"), sampling: SamplingFields())) { pieces.append($0) }
        }
        #expect(pieces == ["Hel"])
        #expect(error.code == .connectionClosed)
    }

    @Test func streamClosedCleanlyWithoutDoneIsAnError() throws {
        let script: [ScriptedHTTPServer.Step] = [
            .send(ScriptedHTTPServer.eventStreamHead(isChunked: false)),
            .send(Array("data: \(Self.completionChunks[0])\n\n".utf8)),
        ]
        let server = try ScriptedHTTPServer { _ in script }
        defer { server.stop() }
        let error = try #require(throws: ServingClientError.self) {
            try client(server).streamCompletion(CompletionRequest(model: nil, prompt: .text("x"), sampling: SamplingFields()))
        }
        #expect(error.code == .connectionClosed)
        #expect(error.description.contains("ended before data: [DONE]"))
    }

    @Test func stalledStreamTimesOut() throws {
        let script: [ScriptedHTTPServer.Step] = [
            .send(ScriptedHTTPServer.eventStreamHead()),
            .send(ScriptedHTTPServer.chunk(Array("data: \(Self.completionChunks[0])\n\n".utf8))),
            .stall,
        ]
        let server = try ScriptedHTTPServer { _ in script }
        defer { server.stop() }
        let error = try #require(throws: ServingClientError.self) {
            try client(server, readTimeout: .milliseconds(300)).streamCompletion(
                CompletionRequest(model: nil, prompt: .text("x"), sampling: SamplingFields()))
        }
        #expect(error.code == .timedOut)
    }

    @Test func errorEventInsideTheStreamSurfacesItsMessage() throws {
        let events = [Self.completionChunks[0], #"{"error":{"message":"worker 2 died","type":"server_error","code":503}}"#]
        let script = Self.splitStream(events, size: 4096)
        let server = try ScriptedHTTPServer { _ in script }
        defer { server.stop() }
        let error = try #require(throws: ServingClientError.self) {
            try client(server).streamCompletion(CompletionRequest(model: nil, prompt: .text("x"), sampling: SamplingFields()))
        }
        #expect(error.code == .server)
        #expect(error.description == "POST /v1/completions failed mid-stream: worker 2 died")
    }

    @Test func httpErrorOnAStreamingRequestCarriesTheMessage() throws {
        let server = try ScriptedHTTPServer { _ in
            [.send(ScriptedHTTPServer.errorResponse(
                status: 429, reason: "Too Many Requests", message: "admission queue full", type: "rate_limit"))]
        }
        defer { server.stop() }
        let error = try #require(throws: ServingClientError.self) {
            try client(server).streamCompletion(CompletionRequest(model: nil, prompt: .text("x"), sampling: SamplingFields()))
        }
        #expect(error.status == 429)
        #expect(error.serverMessage == "admission queue full [rate_limit]")
    }

    @Test func listsModelsAndChecksHealth() throws {
        let server = try ScriptedHTTPServer { request in
            switch request.path {
            case "/v1/models":
                return [.send(ScriptedHTTPServer.response(
                    body: #"{"object":"list","data":[{"id":"demo","object":"model","owned_by":"radixserve","max_model_len":2048}]}"#))]
            case "/metrics":
                return [.send(ScriptedHTTPServer.response(contentType: "text/plain", body: "radixserve_requests_total 3\n"))]
            default:
                return [.send(ScriptedHTTPServer.errorResponse(
                    status: 503, reason: "Service Unavailable", message: "no routable worker", type: "unavailable"))]
            }
        }
        defer { server.stop() }
        let client = try client(server)
        #expect(try client.models() == [ModelCard(id: "demo", ownedBy: "radixserve", maxModelLength: 2048)])
        #expect(try client.isHealthy() == false)
        #expect(try client.metrics() == "radixserve_requests_total 3\n")
    }

    @Test func managesWorkers() throws {
        let worker = #"{"id":1,"endpoint":"tcp://10.0.0.5:7000","routable":true,"draining":false,"incarnation":2,"model":"demo","tensor_parallel_size":2,"max_model_len":2048,"running":3,"waiting":1,"free_pages":100,"evictable_pages":20,"cached_pages":40,"total_pages":160,"prefill_tokens_per_second":1234.5,"decode_tokens_per_second":56.5,"in_flight":4,"cache_events":"verified"}"#
        let other = #"{"id":2,"routable":false,"draining":true,"incarnation":3,"model":"demo","tensor_parallel_size":1,"max_model_len":2048,"running":0,"waiting":0,"free_pages":160,"evictable_pages":0,"cached_pages":0,"total_pages":160,"prefill_tokens_per_second":0,"decode_tokens_per_second":0,"in_flight":0,"cache_events":"untrusted"}"#
        let server = try ScriptedHTTPServer { request in
            switch (request.method, request.path) {
            case ("GET", "/workers"):
                return [.send(ScriptedHTTPServer.response(body: #"{"workers":[\#(worker),\#(other)]}"#))]
            case ("POST", "/workers"):
                return [.send(ScriptedHTTPServer.response(status: 201, reason: "Created", body: worker))]
            case ("DELETE", "/workers/1"), ("POST", "/flush_cache"):
                return [.send(ScriptedHTTPServer.response(body: "{}"))]
            default:
                return [.send(ScriptedHTTPServer.errorResponse(
                    status: 404, reason: "Not Found", message: "no worker \(request.path)", type: "not_found"))]
            }
        }
        defer { server.stop() }
        let client = try client(server)
        let workers = try client.workers()
        #expect(workers.map(\.id) == [1, 2])
        let first = workers[0]
        #expect(first.endpoint == "tcp://10.0.0.5:7000")
        #expect(first.isRoutable && !first.isDraining && first.model == "demo" && first.maxModelLength == 2048)
        #expect(first.tensorParallelSize == 2)
        #expect(first.freePages == 100 && first.totalPages == 160 && first.cachedPages == 40 && first.evictablePages == 20)
        #expect(first.prefillTokensPerSecond == 1234.5 && first.decodeTokensPerSecond == 56.5)
        #expect(first.inFlight == 4 && first.running == 3 && first.waiting == 1 && first.incarnation == 2)
        #expect(workers[1].endpoint == nil && !workers[1].isRoutable && workers[1].isDraining)

        #expect(try client.addWorker(endpoint: "tcp://10.0.0.5:7000") == first)
        let added = try #require(server.requests.last)
        #expect(added.jsonObject?["endpoint"] as? String == "tcp://10.0.0.5:7000")
        try client.removeWorker(id: "1")
        try client.flushCache()
        let error = try #require(throws: ServingClientError.self) { try client.removeWorker(id: "9 9") }
        #expect(error.status == 404)
        #expect(server.requests.last?.path == "/workers/9%209")
    }
}
