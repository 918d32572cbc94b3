import Foundation
import ServingClient
import ServingTypes
import Testing
import TestSupport

/// `radixserve chat`: the history each turn sends, `/reset`, `/exit`, and failed turns.
@Suite struct ConversationTests {
    private func conversation(_ server: ScriptedHTTPServer, system: String? = "Be brief.", into written: Written) throws
        -> Conversation
    {
        Conversation(
            generation: ServedGeneration(
                client: try ScriptedRouter.client(server), isStreaming: true, output: .text, write: written.write),
            model: "demo", sampling: SamplingFields(maxTokens: 2), system: system)
    }

    @Test(arguments: [
        ("  Hello there ", Conversation.Input.message("Hello there")), ("", .blank), ("   ", .blank), ("/exit", .exit),
        (" /quit ", .exit), ("/reset", .reset), ("/resets", .message("/resets")), ("hi /exit", .message("hi /exit")),
    ])
    func linesAreMessagesOrCommands(line: String, input: Conversation.Input) {
        #expect(Conversation.Input(line: line) == input)
    }

    @Test func eachTurnSendsTheWholeHistory() throws {
        let server = try ScriptedRouter.start()
        defer { server.stop() }
        let written = Written()
        var chat = try conversation(server, into: written)
        #expect(chat.messages == [.system("Be brief.")])
        try chat.send("Hi")
        try chat.send("And?")
        #expect(chat.messages == [.system("Be brief."), .user("Hi"), .assistant("[2] w1 "), .user("And?"), .assistant("[4] w1 ")])
        #expect(written.text == "[2] w1 \n[4] w1 \n")
        let last = try #require(server.requests.last?.jsonObject?["messages"] as? [[String: String]])
        #expect(last.map { $0["role"] ?? "" } == ["system", "user", "assistant", "user"])
    }

    @Test func aFailedTurnLeavesTheHistoryAsItWas() throws {
        let server = try ScriptedRouter.start()
        defer { server.stop() }
        var chat = try conversation(server, system: nil, into: Written())
        try chat.send("Hi")
        #expect(throws: ServingClientError.self) { try chat.send("fail") }
        #expect(chat.messages == [.user("Hi"), .assistant("[1] w1 ")])
        chat.reset()
        #expect(chat.messages.isEmpty)
    }

    @Test func aSessionReadsLinesUntilExitResettingAndReportingErrors() throws {
        let server = try ScriptedRouter.start()
        defer { server.stop() }
        let written = Written()
        var chat = try conversation(server, into: written)
        var lines = ["Hi", "   ", "fail", "Again", "/reset", "Fresh", "/exit", "never read"][...]
        var errors: [String] = []
        chat.runSession(showsPrompt: true, readLine: { lines.popFirst() }, writeError: { errors.append($0) })
        #expect(lines == ["never read"])
        #expect(errors == ["error: POST /v1/chat/completions failed with HTTP 500 Internal Server Error: worker lost [server_error]\n"])
        // A prompt before every line read; the failed turn left no trace in the history.
        #expect(written.text == "> [2] w1 \n> > > [4] w1 \n> > [2] w1 \n> ")
        #expect(chat.messages == [.system("Be brief."), .user("Fresh"), .assistant("[2] w1 ")])
        #expect(server.requests.count == 4)
    }

    @Test func aSessionEndsAtTheEndOfInputWithoutPrompts() throws {
        let server = try ScriptedRouter.start()
        defer { server.stop() }
        let written = Written()
        var chat = try conversation(server, system: nil, into: written)
        var lines = ["Hi"][...]
        chat.runSession(showsPrompt: false, readLine: { lines.popFirst() }, writeError: { _ in Issue.record("no error") })
        #expect(written.text == "[1] w1 \n")
    }
}
