import ArgumentParser
import ServingClient
import ServingTypes

/// `generate --url`: the prompts go to a router's `/v1/completions` (`--chat` messages to
/// `/v1/chat/completions`, which renders the served model's template) one after another.
extension GenerateCommand {
    /// Rejects flags that only mean something for a model loaded here.
    func validateServed() throws {
        let localOnly: [(isGiven: Bool, flags: String)] = [
            (promptsFile != nil, "--prompts-file"),
            (tensorParallel.isEnabled, "--tp, --tp-endpoint and --tp-stats"),
            (modelOptions.isModelGiven, "--model (name the served model with --model-name)"),
            (engine.kvMemory != nil || engine.noPrefixCache, "--kv-memory and --no-prefix-cache"),
            (!sampling.stopTokenIDs.isEmpty, "--stop-token-id (use --stop TEXT)"),
        ]
        if let conflict = localOnly.first(where: \.isGiven) {
            throw ValidationError("\(conflict.flags) cannot be combined with --url (local model only)")
        }
    }

    func runServed() throws {
        let client = try server.client()
        let generation = ServedGeneration(client: client, isStreaming: !served.noStream, printsText: !json)
        let model = try served.model(from: client)
        let fields = served.fields(sampling)
        for text in prompt {
            let completion = try generation.complete(CompletionRequest(model: model, prompt: .text(text), sampling: fields))
            if json { StandardOutput.write(try ServedGenerationRecord(completion).jsonLine()) }
        }
        for message in chat {
            let messages = (system.map { [ChatMessage.system($0)] } ?? []) + [.user(message)]
            let completion = try generation.chat(ChatCompletionRequest(model: model, messages: messages, sampling: fields))
            if json { StandardOutput.write(try ServedGenerationRecord(completion).jsonLine()) }
        }
    }
}
