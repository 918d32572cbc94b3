import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import RouterService
import ServingTypes
import Testing
import WireProtocol

/// `POST /v1/completions` against a real coordinator and scripted workers.
// A hang guard, not a speed check: on two cores the cooperative pool these tests await on is
// shared with long CPU-bound tests (parity) that hold it for minutes in a full run.
@Suite(.timeLimit(.minutes(10))) struct CompletionsTests {
    /// Log-probabilities a worker reports for `ids`: token i has logprob −(i+1)/4 and one
    /// alternative, the next token id, one nat lower.
    static func logprobs(_ ids: [Int32]) -> [TokenLogprobs] {
        ids.enumerated().map { index, id in
            let logprob = -Float(index + 1) / 4
            return TokenLogprobs(
                logprob: logprob, top: [TokenLogprob(tokenID: id, logprob: logprob), TokenLogprob(tokenID: id + 1, logprob: logprob - 1)])
        }
    }

    @Test func textPromptIsTokenizedAndTheGeneratedTokensComeBackAsText() async throws {
        try await RouterHarness.run { harness, client in
            let worker = try await harness.worker { _ in .generate([Served.generatedIDs], cached: 3) }
            let response = try await client.post(
                "/v1/completions", #"{"model":"llama-gqa","prompt":"Hello world","max_tokens":12,"temperature":0,"seed":7}"#)
            #expect(response.status == .ok, "\(response.text)")
            let submit = try #require(worker.submits.first)
            #expect(submit.tokenIDs == Served.helloWorldTokens)
            #expect(submit.params.maxTokens == 12 && submit.params.temperature == 0 && submit.params.seed == 7)
            #expect(submit.params.logprobs == nil)

            let body = try response.json()
            #expect(body["id"] as? String == "cmpl-\(submit.requestID)")
            #expect(body["object"] as? String == "text_completion")
            #expect(body["model"] as? String == "llama-gqa")
            let choices = try #require(body["choices"] as? [JSONObject])
            #expect(choices.count == 1)
            #expect(value(choices, 0, "index") as? Int == 0)
            #expect(value(choices, 0, "text") as? String == " The quick brown fox")
            #expect(value(choices, 0, "finish_reason") as? String == "length")
            #expect(value(choices, 0, "logprobs") is NSNull)
            #expect(value(choices, 0, "token_ids") == nil)
            let count = Served.generatedIDs.count
            #expect(value(body, "usage", "prompt_tokens") as? Int == 5)
            #expect(value(body, "usage", "completion_tokens") as? Int == count)
            #expect(value(body, "usage", "total_tokens") as? Int == 5 + count)
            #expect(value(body, "usage", "prompt_tokens_details", "cached_tokens") as? Int == 3)
        }
    }

    @Test func tokenIDPromptWithEchoLogprobsAndTokenIDs() async throws {
        try await RouterHarness.run { harness, client in
            let ids = Served.generatedIDs
            let worker = try await harness.worker { _ in .generate([ids], logprobs: [Self.logprobs(ids)], finish: .stop(tokenID: 820)) }
            let response = try await client.post(
                "/v1/completions", #"{"prompt":[816,39,322,270,572],"echo":true,"logprobs":2,"return_token_ids":true}"#)
            #expect(response.status == .ok, "\(response.text)")
            let submit = try #require(worker.submits.first)
            #expect(submit.tokenIDs == Served.helloWorldTokens)
            #expect(submit.params.logprobs == 2)
            #expect(submit.params.maxTokens == 16, "the completions default")
            #expect(submit.params.temperature == 1, "OpenAI's default temperature")

            let choice = try #require(value(try response.json(), "choices", 0) as? JSONObject)
            // The echoed prompt is decoded without its BOS.
            #expect(choice["text"] as? String == "Hello world The quick brown fox")
            #expect(choice["finish_reason"] as? String == "stop")
            #expect((choice["token_ids"] as? [Int])?.map(Int32.init) == ids)
            let logprobs = try #require(choice["logprobs"] as? JSONObject)
            let tokens = try #require(logprobs["tokens"] as? [String])
            #expect(tokens == ids.map { Served.text([$0]) })
            #expect(tokens.joined() == " The quick brown fox")
            #expect((logprobs["token_logprobs"] as? [Double]) == (1...ids.count).map { -Double($0) / 4 })
            let top = try #require(logprobs["top_logprobs"] as? [[String: Double]])
            #expect(top.count == ids.count)
            for (index, id) in ids.enumerated() {
                let logprob = -Double(index + 1) / 4
                #expect(top[index] == [Served.text([id]): logprob, Served.text([id + 1]): logprob - 1])
            }
            // Offsets count from the start of the returned text, echoed prompt included.
            let offsets = try #require(logprobs["text_offset"] as? [Int])
            #expect(offsets.first == "Hello world".utf8.count)
            #expect(offsets == tokens.indices.map { "Hello world".utf8.count + tokens[..<$0].joined().utf8.count })
        }
    }

    func streamsWithUsage(_ setup: TestingSetup) async throws {
        try await RouterHarness.run(setup) { harness, client in
            let ids = Served.generatedIDs
            let batches = [Array(ids[..<2]), Array(ids[2..<4]), Array(ids[4...])]
            let worker = try await harness.worker { _ in .generate(batches, cached: 2) }
            let response = try await client.post(
                "/v1/completions",
                #"{"prompt":"Hello world","stream":true,"stream_options":{"include_usage":true},"max_tokens":32}"#)
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-cache")
            let submit = try #require(worker.submits.first)
            let events = try response.events()
            try #require(events.count == batches.count + 2, "\(response.text)")
            for event in events {
                #expect(event["id"] as? String == "cmpl-\(submit.requestID)")
                #expect(event["object"] as? String == "text_completion")
                #expect(event["model"] as? String == "llama-gqa")
            }
            let pieces = events.dropLast(2)
            #expect(pieces.compactMap { value($0, "choices", 0, "text") as? String } == batches.map { Served.text($0) })
            #expect(pieces.compactMap { value($0, "choices", 0, "text") as? String }.joined() == " The quick brown fox")
            #expect(pieces.allSatisfy { value($0, "choices", 0, "finish_reason") is NSNull && $0["usage"] == nil })
            let last = events[events.count - 2]
            #expect(value(last, "choices", 0, "text") as? String == "")
            #expect(value(last, "choices", 0, "finish_reason") as? String == "length")
            let usage = events[events.count - 1]
            #expect((usage["choices"] as? [Any])?.isEmpty == true)
            #expect(value(usage, "usage", "prompt_tokens") as? Int == 5)
            #expect(value(usage, "usage", "completion_tokens") as? Int == ids.count)
            #expect(value(usage, "usage", "total_tokens") as? Int == 5 + ids.count)
            #expect(value(usage, "usage", "prompt_tokens_details", "cached_tokens") as? Int == 2)
        }
    }

    @Test func streamsServerSentEventsWithUsage() async throws { try await streamsWithUsage(.router) }

    /// The same stream through a real HTTP server on an ephemeral port (chunked transfer).
    @Test func streamsServerSentEventsOverALiveServer() async throws { try await streamsWithUsage(.live) }

    @Test func streamWithoutIncludeUsageHasNoUsageEvent() async throws {
        try await RouterHarness.run { harness, client in
            _ = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            let response = try await client.post("/v1/completions", #"{"prompt":"Hello world","stream":true,"echo":true}"#)
            let events = try response.events()
            try #require(events.count == 3, "\(response.text)")
            #expect(value(events[0], "choices", 0, "text") as? String == "Hello world", "the echo comes first")
            #expect(value(events[1], "choices", 0, "text") as? String == " The quick brown fox")
            #expect(value(events[2], "choices", 0, "finish_reason") as? String == "length")
            #expect(events.allSatisfy { $0["usage"] == nil })
        }
    }

    /// A stop string ends the text before it (not included), the finish reason is `stop`, the
    /// worker is told to abort, and usage counts the tokens up to the one that completed it.
    @Test func stopStringCutsTheTextAndAbortsTheWorker() async throws {
        try await RouterHarness.run { harness, client in
            let ids = Served.generatedIDs
            let worker = try await harness.worker { _ in .generateThenHold(ids.map { [$0] }) }
            let response = try await client.post(
                "/v1/completions", #"{"prompt":"Hello world","max_tokens":40,"stop":["nothing","brown"]}"#)
            #expect(response.status == .ok, "\(response.text)")
            let body = try response.json()
            #expect(value(body, "choices", 0, "text") as? String == " The quick ")
            #expect(value(body, "choices", 0, "finish_reason") as? String == "stop")
            let used = try #require((1...ids.count).first { Served.text(Array(ids[..<$0])).contains("brown") })
            #expect(used < ids.count)
            #expect(value(body, "usage", "completion_tokens") as? Int == used)
            let submit = try #require(worker.submits.first)
            try await waitUntil("the worker was told to stop") { worker.aborts == [submit.requestID] }
        }
    }

    @Test func streamedStopStringMatchedAcrossTokens() async throws {
        try await RouterHarness.run { harness, client in
            let ids = Served.generatedIDs
            let worker = try await harness.worker { _ in .generateThenHold(ids.map { [$0] }) }
            let response = try await client.post(
                "/v1/completions", #"{"prompt":"Hello world","stream":true,"stop":"k brown f"}"#)
            let events = try response.events()
            let text = events.compactMap { value($0, "choices", 0, "text") as? String }.joined()
            #expect(text == " The quic")
            #expect(value(events.last, "choices", 0, "finish_reason") as? String == "stop")
            let submit = try #require(worker.submits.first)
            try await waitUntil("the worker was told to stop") { worker.aborts == [submit.requestID] }
        }
    }
}
