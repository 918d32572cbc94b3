import ServingClient
import ServingTypes

/// The messages of one chat session.
struct Conversation {
    let generation: ServedGeneration
    let model: String?
    let sampling: SamplingFields
    let system: String?
    private(set) var messages: [ChatMessage] = []

    init(generation: ServedGeneration, model: String?, sampling: SamplingFields, system: String?) {
        self.generation = generation
        self.model = model
        self.sampling = sampling
        self.system = system
        reset()
    }

    /// Sends `text` as the next user turn with the whole history and records the answer; on
    /// failure the history is left as it was.
    mutating func send(_ text: String) throws {
        let request = ChatCompletionRequest(model: model, messages: messages + [.user(text)], sampling: sampling)
        let answer = try generation.chat(request)
        messages += [.user(text), .assistant(answer.text)]
    }

    /// Forgets every turn, keeping the system message.
    mutating func reset() {
        messages = system.map { [.system($0)] } ?? []
    }
}
