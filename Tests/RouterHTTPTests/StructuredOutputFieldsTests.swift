import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RouterHTTP
import ServingTypes
import Testing
import TestSupport
import WireProtocol

/// `response_format`, `regex`, `json_schema`, `logit_bias` and `min_tokens` reach the worker as the
/// request's parameters (a schema's text in the order it was written), and what the worker could
/// never serve is a 400 naming the field or keyword.
@Suite struct StructuredOutputFieldsTests {
    static let schema = #"{"type":"object","properties":{"zeta":{"type":"integer","minimum":0},"alpha":{"type":"string"}},"required":["zeta"]}"#

    @Test func everyEndpointPassesItsConstraintAndBiasToTheWorker() async throws {
        try await RouterHarness.run { harness, client in
            let worker = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            let completions = try await client.post("/v1/completions", #"""
                {"prompt":"Hi","max_tokens":8,"min_tokens":2,"logit_bias":{"5":-100,"7":3.5},
                 "response_format":{"type":"json_schema","json_schema":{"name":"thing","schema":\#(Self.schema)}}}
                """#)
            #expect(completions.status == .ok, "\(completions.text)")
            let chat = try await client.post("/v1/chat/completions", #"""
                {"messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_object"}}
                """#)
            #expect(chat.status == .ok, "\(chat.text)")
            let regex = try await client.post("/generate", #"{"text":"Hi","sampling_params":{"regex":"[0-9]{3}","max_new_tokens":4}}"#)
            #expect(regex.status == .ok, "\(regex.text)")
            let object = try await client.post("/generate", #"{"text":"Hi","sampling_params":{"json_schema":\#(Self.schema)}}"#)
            #expect(object.status == .ok, "\(object.text)")
            let text = try await client.post("/v1/completions", #"{"prompt":"Hi","response_format":{"type":"text"}}"#)
            #expect(text.status == .ok, "\(text.text)")
            let flattened = try await client.post("/v1/completions", #"{"prompt":"Hi","json_schema":\#(Self.schema)}"#)
            #expect(flattened.status == .ok, "\(flattened.text)")

            let params = worker.submits.map(\.params)
            #expect(params.count == 6)
            #expect(params[0].constraint == .jsonSchema(Self.schema), "the schema's text keeps its key order")
            #expect(params[0].logitBias == [5: -100, 7: 3.5] && params[0].minTokens == 2)
            #expect(params[1].constraint == .jsonObject)
            #expect(params[2].constraint == .regex("[0-9]{3}"))
            #expect(params[3].constraint == .jsonSchema(Self.schema))
            #expect(params[4].constraint == nil)
            #expect(params[5].constraint == .jsonSchema(Self.schema), "the sampling fields sit in an OpenAI body itself")
        }
    }

    @Test(arguments: [
        ("/v1/completions", #"{"prompt":"Hi","response_format":{"type":"json_schema","json_schema":{"schema":{"type":"object","patternProperties":{}}}}}"#,
         "response_format", "patternProperties"),
        ("/v1/completions", #"{"prompt":"Hi","response_format":{"type":"yaml"}}"#, "response_format.type", "unknown response_format type 'yaml'"),
        ("/v1/chat/completions", #"{"messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_schema"}}"#,
         "response_format.json_schema.schema", "needs json_schema.schema"),
        ("/generate", #"{"text":"Hi","sampling_params":{"regex":"(?=a)b"}}"#, "regex", "(?="),
        ("/generate", #"{"text":"Hi","sampling_params":{"json_schema":{"oneOf":[]}}}"#, "json_schema", "oneOf"),
        ("/generate", #"{"text":"Hi","sampling_params":{"json_schema":7}}"#, "json_schema", "must be a JSON Schema object"),
        ("/generate", #"{"text":"Hi","sampling_params":{"regex":"a","json_schema":"{}"}}"#, "response_format", "not several"),
        ("/v1/completions", #"{"prompt":"Hi","response_format":{"type":"json_object"},"json_schema":{"type":"object"}}"#,
         "response_format", "not several"),
        ("/v1/completions", #"{"prompt":"Hi","json_schema":[1]}"#, "json_schema", "must be a JSON Schema object"),
        ("/v1/completions", #"{"prompt":"Hi","logit_bias":{"x":1}}"#, "logit_bias", "must be a token id"),
        ("/v1/completions", #"{"prompt":"Hi","logit_bias":{"5":101}}"#, "logit_bias", "[-100, 100]"),
        ("/v1/completions", #"{"prompt":"Hi","max_tokens":4,"min_tokens":5}"#, "min_tokens", "[0, max_tokens]"),
    ])
    func whatCannotBeServedIs400NamingIt(endpoint: String, body: String, param: String, message: String) async throws {
        try await RouterHarness.run { harness, client in
            let worker = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            let response = try await client.post(endpoint, body)
            #expect(response.status == .badRequest, "\(response.text)")
            let error = try #require(try response.json()["error"] as? [String: Any])
            #expect(error["param"] as? String == param, "\(response.text)")
            #expect((error["message"] as? String)?.contains(message) == true, "\(response.text)")
            #expect(worker.submits.isEmpty)
        }
    }
}
