import Foundation
import ServingClient
import ServingTypes
import Testing
import TestSupport

/// `generate --url` and `chat` output: text streamed then a newline, or one JSON line per answer.
@Suite struct ServedGenerationTests {
    private func generation(
        _ server: ScriptedHTTPServer, isStreaming: Bool = true, output: ServedGeneration.Output = .text, into written: Written
    ) throws -> ServedGeneration {
        ServedGeneration(client: try ScriptedRouter.client(server), isStreaming: isStreaming, output: output, write: written.write)
    }

    @Test(arguments: [true, false])
    func writesEachAnswersTextThenANewline(isStreaming: Bool) throws {
        let server = try ScriptedRouter.start()
        defer { server.stop() }
        let written = Written()
        try generation(server, isStreaming: isStreaming, into: written).generate(
            prompts: ["Once", "Twice"], chats: ["Hi"], system: "Be brief.", model: "demo", sampling: SamplingFields(maxTokens: 3))
        #expect(written.text == "w0 w1 w2 \nw0 w1 w2 \n[2] w1 w2 \n")
        let requests = server.requests
        #expect(requests.map(\.path) == ["/v1/completions", "/v1/completions", "/v1/chat/completions"])
        #expect(requests.allSatisfy { $0.jsonObject?["stream"] as? Bool == isStreaming })
        let messages = try #require(requests[2].jsonObject?["messages"] as? [[String: String]])
        #expect(messages == [["role": "system", "content": "Be brief."], ["role": "user", "content": "Hi"]])
    }

    @Test func jsonLinesWriteOneRecordPerAnswerAndNoText() throws {
        let server = try ScriptedRouter.start()
        defer { server.stop() }
        let written = Written()
        try generation(server, output: .jsonLines, into: written).generate(
            prompts: ["Once"], chats: ["Hi"], system: nil, model: nil, sampling: SamplingFields(maxTokens: 2))
        #expect(written.text == """
            {"cached_tokens":0,"completion_tokens":2,"finish_reason":"length","model":"demo","prompt_tokens":1,"text":"w0 w1 "}
            {"cached_tokens":0,"completion_tokens":2,"finish_reason":"length","model":"demo","prompt_tokens":1,"text":"[1] w1 "}

            """)
        #expect(server.requests.allSatisfy { $0.jsonObject?["model"] == nil })
    }

    @Test func aStreamThatFailsAfterTextEndsTheLineBeforeTheError() throws {
        let server = try ScriptedRouter.start()
        defer { server.stop() }
        let written = Written()
        let error = try #require(throws: ServingClientError.self) {
            try generation(server, into: written).generate(
                prompts: ["break", "never sent"], chats: [], system: nil, model: "demo", sampling: SamplingFields(maxTokens: 3))
        }
        #expect(error.code == .server && error.description.contains("worker lost"))
        #expect(written.text == "w0 \n")
        #expect(server.requests.count == 1)
    }

    @Test func aRefusedRequestWritesNothing() throws {
        let server = try ScriptedRouter.start()
        defer { server.stop() }
        let written = Written()
        let error = try #require(throws: ServingClientError.self) {
            try generation(server, into: written).complete(CompletionRequest(model: "demo", prompt: .text("fail"), sampling: SamplingFields(maxTokens: 1)))
        }
        #expect(error.status == 500)
        #expect(written.text.isEmpty)
    }

    @Test func theRecordCarriesTheUsage() {
        let completion = Completion(
            model: "demo", text: "hi", finishReason: "stop",
            usage: Usage(promptTokens: 5, completionTokens: 1, totalTokens: 6, cachedTokens: 4))
        let record = ServedGenerationRecord(completion)
        #expect(record.text == "hi" && record.finishReason == "stop" && record.model == "demo")
        #expect(record.promptTokens == 5 && record.completionTokens == 1 && record.cachedTokens == 4)
        #expect(ServedGenerationRecord(Completion(text: "x")).promptTokens == nil)
    }
}
