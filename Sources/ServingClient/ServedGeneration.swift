import ServingTypes

/// Sends completion and chat requests to a router and writes the answers (`generate --url`,
/// `chat`). With ``Output/text`` each answer is written piece by piece as it streams in (or
/// whole with ``isStreaming`` off), then a newline; with ``Output/jsonLines`` the answers are
/// not written as text, and ``generate(prompts:chats:system:model:sampling:)`` writes one
/// ``ServedGenerationRecord`` line per answer instead.
///
/// Blocks its caller like ``RouterClient``; ``write`` runs on the caller's thread.
public struct ServedGeneration {
    /// What the answers are written as.
    public enum Output: Sendable, Hashable {
        case text
        case jsonLines
    }

    public var client: RouterClient
    /// Stream each answer (`stream: true`) rather than wait for the whole of it.
    public var isStreaming: Bool
    public var output: Output
    /// Receives everything written (standard output in the command line).
    public var write: (String) -> Void

    public init(client: RouterClient, isStreaming: Bool, output: Output, write: @escaping (String) -> Void) {
        self.client = client
        self.isStreaming = isStreaming
        self.output = output
        self.write = write
    }

    /// Sends `request` to `/v1/completions`, writes the answer's text and returns the answer.
    public func complete(_ request: CompletionRequest) throws -> Completion {
        guard isStreaming else { return show(try client.complete(request)) }
        return try streaming { try client.streamCompletion(request, onText: $0).completion }
    }

    /// Sends `request` to `/v1/chat/completions`, writes the answer's text and returns the answer.
    public func chat(_ request: ChatCompletionRequest) throws -> Completion {
        guard isStreaming else { return show(try client.chat(request)) }
        return try streaming { try client.streamChat(request, onText: $0).completion }
    }

    /// Sends each of `prompts` to `/v1/completions`, then each of `chats` as a user message (after
    /// the `system` message, if any) to `/v1/chat/completions`, one request after another, and
    /// writes each answer as ``output`` says. The first failure ends the run.
    public func generate(prompts: [String], chats: [String], system: String?, model: String?, sampling: SamplingFields)
        throws
    {
        for text in prompts {
            try record(complete(CompletionRequest(model: model, prompt: .text(text), sampling: sampling)))
        }
        for message in chats {
            let messages = (system.map { [ChatMessage.system($0)] } ?? []) + [.user(message)]
            try record(chat(ChatCompletionRequest(model: model, messages: messages, sampling: sampling)))
        }
    }

    // MARK: - Private

    /// Writes the `--json` line of `completion` when that is the output.
    private func record(_ completion: Completion) throws {
        if output == .jsonLines { write(try ServedGenerationRecord(completion).jsonLine()) }
    }

    /// Runs a streaming call that writes each piece; if it fails after writing, ends the line
    /// first so the error message starts on its own.
    private func streaming(_ call: (_ onText: (String) -> Void) throws -> Completion) throws -> Completion {
        var hasWritten = false
        do {
            return finish(try call { text in
                writeText(text)
                hasWritten = true
            })
        } catch {
            if hasWritten { writeText("\n") }
            throw error
        }
    }

    private func writeText(_ text: String) {
        if output == .text { write(text) }
    }

    private func show(_ completion: Completion) -> Completion {
        writeText(completion.text)
        return finish(completion)
    }

    private func finish(_ completion: Completion) -> Completion {
        writeText("\n")
        return completion
    }
}

/// The `--json` line of one answer from a router (`generate --url --json`).
public struct ServedGenerationRecord: Sendable, Hashable, Encodable {
    public var text: String
    public var finishReason: String?
    public var promptTokens: Int?
    public var completionTokens: Int?
    public var cachedTokens: Int?
    public var model: String?

    public init(_ completion: Completion) {
        text = completion.text
        finishReason = completion.finishReason
        promptTokens = completion.usage?.promptTokens
        completionTokens = completion.usage?.completionTokens
        cachedTokens = completion.usage?.cachedTokens
        model = completion.model
    }
}

extension ServedGeneration {
    /// `generate --url`: the first flag given that only means something for a model loaded here,
    /// as the message to print, or nil.
    public static func localOnlyProblem(
        promptsFile: Bool, tensorParallel: Bool, model: Bool, engineFlags: Bool, stopTokenIDs: Bool
    ) -> String? {
        let localOnly: [(isGiven: Bool, flags: String)] = [
            (promptsFile, "--prompts-file"),
            (tensorParallel, "--tp, --tp-endpoint and --tp-stats"),
            (model, "--model (name the served model with --model-name)"),
            (engineFlags, "--kv-memory and --no-prefix-cache"),
            (stopTokenIDs, "--stop-token-id (use --stop TEXT)"),
        ]
        return localOnly.first(where: \.isGiven).map { "\($0.flags) cannot be combined with --url (local model only)" }
    }
}
