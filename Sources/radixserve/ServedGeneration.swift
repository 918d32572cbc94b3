import ServingClient
import ServingTypes

/// Sends one completion or chat request to a router and prints the answer: streamed piece by
/// piece as it arrives (or all at once with `--no-stream`), then a newline; nothing with `--json`,
/// whose caller prints one line per answer instead.
struct ServedGeneration {
    var client: RouterClient
    var isStreaming: Bool
    var printsText: Bool

    func complete(_ request: CompletionRequest) throws -> Completion {
        guard isStreaming else { return show(try client.complete(request)) }
        return try streaming { try client.streamCompletion(request, onText: $0).completion }
    }

    func chat(_ request: ChatCompletionRequest) throws -> Completion {
        guard isStreaming else { return show(try client.chat(request)) }
        return try streaming { try client.streamChat(request, onText: $0).completion }
    }

    /// Runs a streaming call that prints each piece; if it fails after printing, ends the line
    /// first so the error message starts on its own.
    private func streaming(_ call: (_ onText: (String) -> Void) throws -> Completion) throws -> Completion {
        var hasWritten = false
        do {
            return finish(try call { text in
                write(text)
                hasWritten = true
            })
        } catch {
            if hasWritten { write("\n") }
            throw error
        }
    }

    private func write(_ text: String) {
        if printsText { StandardOutput.write(text) }
    }

    private func show(_ completion: Completion) -> Completion {
        write(completion.text)
        return finish(completion)
    }

    private func finish(_ completion: Completion) -> Completion {
        write("\n")
        return completion
    }
}

/// The `--json` line of one answer from a router.
struct ServedGenerationRecord: Encodable {
    var text: String
    var finishReason: String?
    var promptTokens: Int?
    var completionTokens: Int?
    var cachedTokens: Int?
    var model: String?

    init(_ completion: Completion) {
        text = completion.text
        finishReason = completion.finishReason
        promptTokens = completion.usage?.promptTokens
        completionTokens = completion.usage?.completionTokens
        cachedTokens = completion.usage?.cachedTokens
        model = completion.model
    }
}
