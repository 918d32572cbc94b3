import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import RouterService
import ServingTypes
import Testing
import WireProtocol

/// Every error status, with OpenAI's `{"error": {message, type, param, code}}`.
// A hang guard, not a speed check: on two cores the cooperative pool these tests await on is
// shared with long CPU-bound tests (parity) that hold it for minutes in a full run.
@Suite(.timeLimit(.minutes(10))) struct ErrorResponseTests {
    static let generationEndpoints = ["/v1/completions", "/v1/chat/completions", "/generate"]

    @Test(arguments: generationEndpoints) func malformedJSONIs400(endpoint: String) async throws {
        try await RouterHarness.run { harness, client in
            let worker = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            let truncated = try await client.post(endpoint, #"{"prompt": "Hello", "#)
            let message = try truncated.expectError(.badRequest, type: "invalid_request_error", param: nil, code: "invalid_json")
            #expect(message.hasPrefix("the request body is not valid JSON"))
            let empty = try await client.post(endpoint, "")
            #expect(try empty.expectError(.badRequest, type: "invalid_request_error", param: nil, code: nil).contains("empty"))
            #expect(worker.submits.isEmpty, "nothing reaches a worker")
        }
    }

    /// A body that is valid JSON but not an object names no parameter (it used to say `param: ""`
    /// and "'' has the wrong type").
    @Test(arguments: generationEndpoints) func nonObjectBodiesAre400WithoutAParam(endpoint: String) async throws {
        try await RouterHarness.run { harness, client in
            _ = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            for body in ["[1,2]", #""Hello""#, "null", "7"] {
                let response = try await client.post(endpoint, body)
                let message = try response.expectError(.badRequest, type: "invalid_request_error", param: nil, code: nil)
                #expect(message == "the request body must be a JSON object", "\(body)")
            }
        }
    }

    /// A field of the wrong type or a missing one is named in `param`.
    @Test(arguments: [
        ("/v1/completions", #"{"prompt":"Hi","max_tokens":"ten"}"#, "max_tokens", nil),
        ("/v1/completions", #"{"prompt":"Hi","stream":"yes"}"#, "stream", nil),
        ("/v1/completions", #"{"prompt":"Hi","temperature":null,"top_p":"high"}"#, "top_p", nil),
        ("/v1/completions", #"{"prompt":{"text":"Hi"}}"#, "prompt", nil),
        ("/v1/completions", #"{"max_tokens":4}"#, "prompt", "missing_required_parameter"),
        ("/v1/chat/completions", #"{"messages":"Hi"}"#, "messages", nil),
        ("/v1/chat/completions", #"{"messages":[{"role":"user","content":7}]}"#, "messages[0].content", nil),
        ("/v1/chat/completions", #"{"messages":[{"content":"Hi"}]}"#, "messages[0].role", "missing_required_parameter"),
        ("/v1/chat/completions", #"{"messages":[{"role":"user","content":"Hi"}],"logprobs":1}"#, "logprobs", nil),
        ("/generate", #"{"text":"Hi","sampling_params":{"temperature":"hot"}}"#, "sampling_params.temperature", nil),
        ("/generate", #"{"input_ids":["a"]}"#, "input_ids[0]", nil),
    ] as [(String, String, String, String?)])
    func wrongTypesAre400NamingTheField(endpoint: String, body: String, param: String, code: String?) async throws {
        try await RouterHarness.run { harness, client in
            _ = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            let response = try await client.post(endpoint, body)
            try response.expectError(.badRequest, type: "invalid_request_error", param: param, code: code)
        }
    }

    /// Out-of-range sampling values are refused before dispatch, naming the parameter.
    @Test(arguments: [
        (#""temperature":500"#, "temperature"), (#""top_p":0"#, "top_p"), (#""top_p":1.5"#, "top_p"),
        (#""top_k":-2"#, "top_k"), (#""min_p":2"#, "min_p"), (#""frequency_penalty":3"#, "frequency_penalty"),
        (#""presence_penalty":-2.5"#, "presence_penalty"), (#""repetition_penalty":0"#, "repetition_penalty"),
        (#""max_tokens":0"#, "max_tokens"), (#""max_tokens":-3"#, "max_tokens"), (#""logprobs":21"#, "logprobs"),
        (#""n":17"#, "n"), (#""n":0"#, "n"), (#""stop_token_ids":[-1]"#, "stop_token_ids"),
        (#""stop":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]"#, "stop"),
    ])
    func outOfRangeSamplingValuesNameTheParameter(field: String, param: String) async throws {
        try await RouterHarness.run { harness, client in
            let worker = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            let response = try await client.post("/v1/completions", #"{"prompt":"Hello world",\#(field)}"#)
            let message = try response.expectError(.badRequest, type: "invalid_request_error", param: param, code: nil)
            #expect(message.contains(param), "\(message)")
            #expect(worker.submits.isEmpty)
        }
    }

    @Test func temperatureOutOfRangeIsRefusedOnEveryEndpoint() async throws {
        try await RouterHarness.run { harness, client in
            _ = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            for (endpoint, body) in [
                ("/v1/completions", #"{"prompt":"Hi","temperature":500}"#),
                ("/v1/chat/completions", #"{"messages":[{"role":"user","content":"Hi"}],"temperature":500}"#),
                ("/generate", #"{"text":"Hi","sampling_params":{"temperature":500}}"#),
            ] {
                let response = try await client.post(endpoint, body)
                let message = try response.expectError(.badRequest, type: "invalid_request_error", param: "temperature", code: nil)
                #expect(message == "invalid temperature 500.0: must be in [0, 100]", "\(endpoint)")
            }
        }
    }

    @Test func contextLengthExceededNamesWhatToShorten() async throws {
        try await RouterHarness.run { harness, client in
            let worker = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            let tooMany = try await client.post("/v1/completions", #"{"prompt":"Hello world","max_tokens":508}"#)
            let message = try tooMany.expectError(
                .badRequest, type: "invalid_request_error", param: "max_tokens", code: "context_length_exceeded")
            #expect(message.contains("maximum context length is 512 tokens") && message.contains("needs 513"))
            let fits = try await client.post("/v1/completions", #"{"prompt":"Hello world","max_tokens":507}"#)
            #expect(fits.status == .ok, "prompt + max_tokens == the context length fits")

            let longPrompt = "[" + Array(repeating: "39", count: 512).joined(separator: ",") + "]"
            let tooLong = try await client.post("/v1/completions", #"{"prompt":\#(longPrompt),"max_tokens":1}"#)
            try tooLong.expectError(.badRequest, type: "invalid_request_error", param: "prompt", code: "context_length_exceeded")
            let chat = try await client.post(
                "/v1/chat/completions", #"{"messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":600}"#)
            let chatMessage = try chat.expectError(
                .badRequest, type: "invalid_request_error", param: "max_completion_tokens", code: "context_length_exceeded")
            #expect(chatMessage.hasSuffix("lower max_completion_tokens"), "\(chatMessage)")
            let generate = try await client.post("/generate", #"{"input_ids":\#(longPrompt)}"#)
            try generate.expectError(.badRequest, type: "invalid_request_error", param: "prompt", code: "context_length_exceeded")
            #expect(worker.submits.count == 1)
        }
    }

    /// Errors name the field the client sent: chat's `top_logprobs`, `/generate`'s
    /// `top_logprobs_num`, the `max_tokens` aliases, and a prompt token id as sent (not narrowed
    /// to 32 bits first).
    @Test(arguments: [
        ("/v1/chat/completions", #"{"messages":[{"role":"user","content":"Hi"}],"logprobs":true,"top_logprobs":25}"#,
            "top_logprobs", nil, "invalid top_logprobs 25: must be in [0, 20]"),
        ("/generate", #"{"text":"Hi","return_logprob":true,"top_logprobs_num":25}"#,
            "top_logprobs_num", nil, "invalid top_logprobs_num 25: must be in [0, 20]"),
        ("/v1/chat/completions", #"{"messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":0}"#,
            "max_completion_tokens", nil, "invalid max_completion_tokens 0: must be in [1, ∞)"),
        ("/generate", #"{"text":"Hi","sampling_params":{"max_new_tokens":0}}"#,
            "max_new_tokens", nil, "invalid max_new_tokens 0: must be in [1, ∞)"),
        ("/generate", #"{"text":"Hello world","sampling_params":{"max_new_tokens":600}}"#,
            "max_new_tokens", "context_length_exceeded", "lower max_new_tokens"),
        ("/v1/completions", #"{"prompt":"Hello world","max_completion_tokens":600}"#,
            "max_completion_tokens", "context_length_exceeded", "lower max_completion_tokens"),
        ("/v1/completions", #"{"prompt":[816,3000000000]}"#,
            "prompt", nil, "prompt token id 3000000000 is outside the vocabulary [0, 821)"),
        ("/generate", #"{"input_ids":[816,-3000000000]}"#,
            "prompt", nil, "prompt token id -3000000000 is outside the vocabulary [0, 821)"),
    ] as [(String, String, String, String?, String)])
    func errorsNameTheFieldAsSent(endpoint: String, body: String, param: String, code: String?, message: String) async throws {
        try await RouterHarness.run { harness, client in
            let worker = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            let response = try await client.post(endpoint, body)
            let sent = try response.expectError(.badRequest, type: "invalid_request_error", param: param, code: code)
            #expect(sent.contains(message), "\(sent)")
            #expect(worker.submits.isEmpty)
        }
    }

    @Test func promptsOutsideTheVocabularyOrEmptyAre400() async throws {
        try await RouterHarness.run { harness, client in
            let worker = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            let outside = try await client.post("/v1/completions", #"{"prompt":[816,821]}"#)
            let message = try outside.expectError(.badRequest, type: "invalid_request_error", param: "prompt", code: nil)
            #expect(message.contains("821") && message.contains("[0, 821)"))
            let negative = try await client.post("/generate", #"{"input_ids":[-1]}"#)
            try negative.expectError(.badRequest, type: "invalid_request_error", param: "prompt", code: nil)
            let empty = try await client.post("/v1/completions", #"{"prompt":[]}"#)
            try empty.expectError(.badRequest, type: "invalid_request_error", param: "prompt", code: nil)
            let twoPrompts = try await client.post("/v1/completions", #"{"prompt":["a","b"]}"#)
            try twoPrompts.expectError(.badRequest, type: "invalid_request_error", param: "prompt", code: nil)
            #expect(worker.submits.isEmpty)
        }
    }

    @Test func chatAndGenerateSpecificRequestErrors() async throws {
        try await RouterHarness.run { harness, client in
            _ = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            for (endpoint, body, param) in [
                ("/v1/chat/completions", #"{"messages":[]}"#, "messages"),
                ("/v1/chat/completions", #"{"messages":[{"role":"user","content":"Hi"}],"top_logprobs":2}"#, "top_logprobs"),
                ("/v1/chat/completions", #"{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}"#, "messages[0].content"),
                ("/generate", #"{"text":"Hi","input_ids":[1]}"#, "text"),
                ("/generate", #"{"sampling_params":{}}"#, "text"),
            ] {
                let response = try await client.post(endpoint, body)
                try response.expectError(.badRequest, type: "invalid_request_error", param: param, code: nil)
            }
        }
    }

    @Test(arguments: [
        ("/v1/completions", #"{"model":"gpt-4","prompt":"Hi"}"#),
        ("/v1/chat/completions", #"{"model":"gpt-4","messages":[{"role":"user","content":"Hi"}]}"#),
    ])
    func unknownModelIs404(endpoint: String, body: String) async throws {
        try await RouterHarness.run { harness, client in
            let worker = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            let response = try await client.post(endpoint, body)
            let message = try response.expectError(.notFound, type: "invalid_request_error", param: "model", code: "model_not_found")
            #expect(message.contains("'gpt-4'") && message.contains("'llama-gqa'"))
            #expect(worker.submits.isEmpty)
        }
    }

    @Test func oversizedBodyIs413() async throws {
        try await RouterHarness.run { harness, client in
            _ = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            var body = ByteBuffer(string: #"{"prompt":""#)
            body.writeRepeatingByte(UInt8(ascii: "a"), count: 32 << 20)
            body.writeString(#""}"#)
            let response = try await client.execute(
                uri: "/v1/completions", method: .post, headers: [.contentType: "application/json"], body: body)
            try response.expectError(.contentTooLarge, type: "invalid_request_error", param: nil, code: "body_too_large")
        }
    }

    /// With the admission limit reached, the next request gets 429; the held one ends with 503
    /// when the router shuts down.
    @Test func aFullAdmissionQueueIs429() async throws {
        try await RouterHarness.run(maxInFlightRequests: 1) { harness, client in
            let worker = try await harness.worker { _ in .hold }
            async let first = client.post("/v1/completions", #"{"prompt":"Hello world"}"#)
            try await waitUntil("the first request reached its worker") { worker.submits.count == 1 }
            let second = try await client.post("/v1/chat/completions", #"{"messages":[{"role":"user","content":"Hi"}]}"#)
            let message = try second.expectError(.tooManyRequests, type: "rate_limit_error", param: nil, code: "overloaded")
            #expect(message.contains("limit of 1 requests"))
            #expect(second.headers[.retryAfter] == "1")
            #expect(worker.submits.count == 1)
            harness.coordinator.shutdown()
            try await first.expectError(.serviceUnavailable, type: "service_unavailable_error", param: nil, code: "shutting_down")
        }
    }

    @Test func noWorkerIs503() async throws {
        try await RouterHarness.run { _, client in
            for (endpoint, body) in [
                ("/v1/completions", #"{"prompt":"Hi"}"#),
                ("/v1/chat/completions", #"{"messages":[{"role":"user","content":"Hi"}],"stream":true}"#),
                ("/generate", #"{"text":"Hi"}"#),
            ] {
                let response = try await client.post(endpoint, body)
                try response.expectError(.serviceUnavailable, type: "service_unavailable_error", param: nil, code: "no_workers")
            }
        }
    }

    /// A worker that refuses a request as invalid fails it with 500 and its message; an error
    /// finish is passed on with the worker's message, today always as a 400 invalid_request_error
    /// (also when the worker's engine failed or was shutting down, which is not the client's fault).
    @Test func workerFailuresReachTheClient() async throws {
        try await RouterHarness.run { harness, client in
            _ = try await harness.worker { submit in
                submit.tokenIDs.count == 5
                    ? .fail(.invalidRequest, "the worker refused it") : .generate([], finish: .error(message: "out of KV pages"))
            }
            let failed = try await client.post("/v1/completions", #"{"prompt":[816,39,322,270,572]}"#)
            let message = try failed.expectError(.internalServerError, type: "server_error", param: nil, code: "worker_failure")
            #expect(message == "the worker refused it")
            let errored = try await client.post("/v1/completions", #"{"prompt":[816,39]}"#)
            #expect(try errored.expectError(.badRequest, type: "invalid_request_error", param: nil, code: nil) == "out of KV pages")
            let streamed = try await client.post("/v1/completions", #"{"prompt":[816,39],"stream":true}"#)
            #expect(streamed.status == .ok, "a stream has started before the error")
            let events = try streamed.events()
            #expect(value(events.last, "error", "message") as? String == "out of KV pages")
        }
    }
}
