import ArgumentParser
import Foundation
import ServingClient
import ServingTypes

/// `radixserve chat`: a conversation with a router's model through `/v1/chat/completions`,
/// keeping the history so each turn sees the earlier ones.
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with a router's model: --message turns, or an interactive session on stdin.",
        discussion: """
            Without --message, reads one user message per line from stdin until end of input or /exit; \
            /reset forgets the conversation. Answers stream to stdout as they are generated.
            """)

    @OptionGroup var server: ServerOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var served: ServedRequestOptions
    @Option(help: "System message placed before the conversation.") var system: String?
    @Option(help: "A user message; each is one turn of the same conversation, printed, then the command exits.")
    var message: [String] = []

    func validate() throws {
        try server.requireURL(for: "chat")
        try sampling.samplingParams.validate()
        guard sampling.stopTokenIDs.isEmpty else {
            throw ValidationError("--stop-token-id is not sent to a router; use --stop TEXT")
        }
    }

    func run() throws {
        let client = try server.client()
        var conversation = Conversation(
            generation: ServedGeneration(
                client: client, isStreaming: !served.noStream, output: .text, write: StandardOutput.write),
            model: try client.modelName(served.modelName), sampling: served.fields(sampling), system: system)
        if !message.isEmpty {
            for text in message { try conversation.send(text) }
            return
        }
        conversation.runSession(
            showsPrompt: isatty(STDIN_FILENO) == 1, readLine: { readLine() }, writeError: StandardOutput.writeError)
    }
}
