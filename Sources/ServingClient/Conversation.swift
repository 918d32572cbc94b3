import Foundation
import ServingTypes

/// The messages of one chat session with a router (`radixserve chat`): each turn sends the whole
/// history plus the new user message, and the answer joins the history.
///
/// Not thread-safe: a value used by one thread at a time, which each call blocks.
public struct Conversation {
    /// Sends the turns and writes their answers.
    public let generation: ServedGeneration
    /// The served model to request; nil leaves the field out.
    public let model: String?
    public let sampling: SamplingFields
    /// The system message that starts the history, kept by ``reset()``.
    public let system: String?
    /// The history: the system message, then user and assistant messages in turn.
    public private(set) var messages: [ChatMessage] = []

    public init(generation: ServedGeneration, model: String?, sampling: SamplingFields, system: String?) {
        self.generation = generation
        self.model = model
        self.sampling = sampling
        self.system = system
        reset()
    }

    /// Sends `text` as the next user turn with the whole history and records the answer; on
    /// failure the history is left as it was.
    public mutating func send(_ text: String) throws {
        let request = ChatCompletionRequest(model: model, messages: messages + [.user(text)], sampling: sampling)
        let answer = try generation.chat(request)
        messages += [.user(text), .assistant(answer.text)]
    }

    /// Forgets every turn, keeping the system message.
    public mutating func reset() {
        messages = system.map { [.system($0)] } ?? []
    }
}

extension Conversation {
    /// What one line of an interactive session asks for.
    public enum Input: Sendable, Hashable {
        /// A user message (the line without surrounding spaces).
        case message(String)
        /// `/reset`: forget the conversation.
        case reset
        /// `/exit` or `/quit`: end the session.
        case exit
        /// Only spaces: ignored.
        case blank

        public init(line: String) {
            let text = line.trimmingCharacters(in: .whitespaces)
            switch text {
            case "": self = .blank
            case "/exit", "/quit": self = .exit
            case "/reset": self = .reset
            default: self = .message(text)
            }
        }
    }

    /// Runs an interactive session: takes one line at a time from `readLine` until it returns nil
    /// or the line is `/exit`, and acts on it as ``Input`` says, writing the `> ` prompt through
    /// the generation before each line when `showsPrompt` (a terminal). A turn that fails is
    /// dropped from the history and reported to `writeError` as an `error: …` line; the session
    /// goes on.
    public mutating func runSession(showsPrompt: Bool, readLine: () -> String?, writeError: (String) -> Void) {
        while true {
            if showsPrompt { generation.write("> ") }
            guard let line = readLine() else { return }
            switch Input(line: line) {
            case .blank: continue
            case .exit: return
            case .reset: reset()
            case .message(let text):
                do {
                    try send(text)
                } catch {
                    writeError("error: \(error)\n")
                }
            }
        }
    }
}
