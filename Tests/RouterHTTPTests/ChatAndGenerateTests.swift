import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import RouterService
import ServingTypes
import Testing
import WireProtocol

/// `POST /v1/chat/completions` and `POST /generate`.
// A hang guard, not a speed check: on two cores the cooperative pool these tests await on is
// shared with long CPU-bound tests (parity) that hold it for minutes in a full run.
@Suite(.timeLimit(.minutes(10))) struct ChatAndGenerateTests {
    /// llama-gqa's template applied by hand to a system and a user message.
    static let renderedPrompt =
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        + "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
    static let messages = #"[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hi "},{"type":"text","text":"there"}]}]"#

    @Test func chatCompletionAppliesTheTemplateAndEndsAtTheEndOfTurnToken() async throws {
        let prompt = Served.ids(Self.renderedPrompt)
        #expect(prompt.first == Served.bos && prompt.filter { $0 == Served.endOfTurn }.count == 2, "special tokens are single ids")
        try await RouterHarness.run { harness, client in
            let reply = Served.generatedIDs + [Served.endOfTurn]
            let worker = try await harness.worker { _ in .generate([reply], finish: .stop(tokenID: Served.endOfTurn), cached: 8) }
            let response = try await client.post(
                "/v1/chat/completions",
                #"{"model":"llama-gqa","messages":\#(Self.messages),"temperature":0.5,"top_p":0.9,"stop_token_ids":[5],"return_token_ids":true}"#)
            #expect(response.status == .ok, "\(response.text)")
            let submit = try #require(worker.submits.first)
            #expect(submit.tokenIDs == prompt)
            #expect(submit.params.maxTokens == UInt32(512 - prompt.count), "chat defaults to the rest of the context")
            #expect(submit.params.temperature == 0.5 && submit.params.topP == 0.9 && submit.params.stopTokenIDs == [5])

            let body = try response.json()
            #expect(body["id"] as? String == "chatcmpl-\(submit.requestID)")
            #expect(body["object"] as? String == "chat.completion")
            #expect(body["model"] as? String == "llama-gqa")
            let choice = try #require(value(body, "choices", 0) as? JSONObject)
            #expect(value(choice, "message", "role") as? String == "assistant")
            #expect(value(choice, "message", "content") as? String == " The quick brown fox", "the end-of-turn token is not text")
            #expect(choice["delta"] == nil)
            #expect(choice["finish_reason"] as? String == "stop")
            #expect(choice["logprobs"] is NSNull)
            #expect((choice["token_ids"] as? [Int])?.map(Int32.init) == reply)
            #expect(value(body, "usage", "prompt_tokens") as? Int == prompt.count)
            #expect(value(body, "usage", "completion_tokens") as? Int == reply.count)
            #expect(value(body, "usage", "total_tokens") as? Int == prompt.count + reply.count)
            #expect(value(body, "usage", "prompt_tokens_details", "cached_tokens") as? Int == 8)
        }
    }

    @Test func streamedChatCompletionWithLogprobsAndUsage() async throws {
        try await RouterHarness.run { harness, client in
            let reply = Served.generatedIDs + [Served.endOfTurn]
            let batches = [Array(reply[..<3]), Array(reply[3...])]
            let worker = try await harness.worker { _ in
                .generate(batches, logprobs: [CompletionsTests.logprobs(batches[0]), CompletionsTests.logprobs(batches[1])],
                    finish: .stop(tokenID: Served.endOfTurn))
            }
            let response = try await client.post(
                "/v1/chat/completions",
                #"{"messages":[{"role":"user","content":"Hi there"}],"stream":true,"stream_options":{"include_usage":true},"logprobs":true,"top_logprobs":1,"max_tokens":20}"#)
            #expect(response.status == .ok)
            let submit = try #require(worker.submits.first)
            #expect(submit.params.logprobs == 1 && submit.params.maxTokens == 20)
            let events = try response.events()
            try #require(events.count == 5, "\(response.text)")
            #expect(events.allSatisfy {
                $0["object"] as? String == "chat.completion.chunk" && $0["id"] as? String == "chatcmpl-\(submit.requestID)"
            })
            // The role first, then content, then the finish, then usage.
            #expect(value(events[0], "choices", 0, "delta") as? [String: String] == ["role": "assistant", "content": ""])
            let content = events[1...2].compactMap { value($0, "choices", 0, "delta", "content") as? String }
            #expect(content == [Served.text(batches[0]), Served.text(Array(batches[1].dropLast()))])
            #expect(content.joined() == " The quick brown fox")
            let entries = events[1...2].flatMap { (value($0, "choices", 0, "logprobs", "content") as? [JSONObject]) ?? [] }
            #expect(entries.compactMap { $0["token"] as? String } == reply.map { Served.text([$0]) })
            #expect(entries.last?["token"] as? String == "<|eot_id|>", "logprobs name special tokens too")
            #expect(entries.compactMap { $0["logprob"] as? Double } == [-0.25, -0.5, -0.75] + (1...batches[1].count).map { -Double($0) / 4 })
            #expect(entries.first.flatMap { $0["bytes"] as? [Int] } == Array(Served.text([reply[0]]).utf8).map(Int.init))
            #expect(entries.allSatisfy { ($0["top_logprobs"] as? [JSONObject])?.count == 2 })
            #expect(value(events[3], "choices", 0, "delta") as? [String: String] == [:])
            #expect(value(events[3], "choices", 0, "finish_reason") as? String == "stop")
            #expect((events[4]["choices"] as? [Any])?.isEmpty == true)
            #expect(value(events[4], "usage", "completion_tokens") as? Int == reply.count)
            #expect(value(events[4], "usage", "prompt_tokens") as? Int == submit.tokenIDs.count)
        }
    }

    @Test func generateFromTextWithLogprobsAndCachedTokens() async throws {
        try await RouterHarness.run { harness, client in
            let ids = Served.generatedIDs
            let worker = try await harness.worker { _ in .generate([ids], logprobs: [CompletionsTests.logprobs(ids)], cached: 4) }
            let response = try await client.post(
                "/generate", #"{"text":"Hello world","sampling_params":{"max_new_tokens":32,"temperature":0},"return_logprob":true}"#)
            #expect(response.status == .ok, "\(response.text)")
            let submit = try #require(worker.submits.first)
            #expect(submit.tokenIDs == Served.helloWorldTokens)
            #expect(submit.params.maxTokens == 32 && submit.params.temperature == 0 && submit.params.logprobs == 0)
            let body = try response.json()
            #expect(body["text"] as? String == " The quick brown fox")
            #expect((body["output_ids"] as? [Int])?.map(Int32.init) == ids)
            let meta = try #require(body["meta_info"] as? JSONObject)
            #expect(meta["id"] as? String == "\(submit.requestID)")
            #expect(meta["prompt_tokens"] as? Int == 5)
            #expect(meta["completion_tokens"] as? Int == ids.count)
            #expect(meta["cached_tokens"] as? Int == 4)
            #expect(meta["finish_reason"] as? [String: String] == ["type": "length"])
            #expect(meta["output_token_logprobs"] as? [Double] == (1...ids.count).map { -Double($0) / 4 })
        }
    }

    @Test func generateFromInputIDsStreamsCumulativeText() async throws {
        try await RouterHarness.run { harness, client in
            let reply = Served.generatedIDs + [Served.endOfTurn]
            let batches = [Array(reply[..<2]), Array(reply[2...])]
            let worker = try await harness.worker { _ in .generate(batches, finish: .stop(tokenID: Served.endOfTurn), cached: 4) }
            let response = try await client.post("/generate", #"{"input_ids":[816,39,322,270,572],"stream":true}"#)
            #expect(response.status == .ok)
            let submit = try #require(worker.submits.first)
            #expect(submit.tokenIDs == Served.helloWorldTokens)
            #expect(submit.params.maxTokens == 128, "the /generate default")
            let events = try response.events()
            try #require(events.count == 3, "\(response.text)")
            #expect(events[0]["text"] as? String == Served.text(batches[0]))
            #expect((events[0]["output_ids"] as? [Int])?.map(Int32.init) == batches[0])
            #expect(value(events[0], "meta_info", "finish_reason") is NSNull)
            #expect(events[1]["text"] as? String == " The quick brown fox", "events are cumulative")
            #expect((events[1]["output_ids"] as? [Int])?.map(Int32.init) == reply)
            let last = try #require(events[2]["meta_info"] as? JSONObject)
            #expect(events[2]["text"] as? String == " The quick brown fox")
            #expect(value(last, "finish_reason", "type") as? String == "stop")
            #expect(value(last, "finish_reason", "matched") as? Int == Int(Served.endOfTurn))
            #expect(last["cached_tokens"] as? Int == 4)
            #expect(last["prompt_tokens"] as? Int == 5 && last["completion_tokens"] as? Int == reply.count)
            #expect(last["output_token_logprobs"] == nil)
        }
    }

    @Test func generateReportsTheMatchedStopString() async throws {
        try await RouterHarness.run { harness, client in
            _ = try await harness.worker { _ in .generateThenHold(Served.generatedIDs.map { [$0] }) }
            let response = try await client.post("/generate", #"{"text":"Hello world","sampling_params":{"stop":"brown"}}"#)
            let body = try response.json()
            #expect(body["text"] as? String == " The quick ")
            #expect(value(body, "meta_info", "finish_reason") as? [String: String] == ["type": "stop", "matched": "brown"])
        }
    }
}
