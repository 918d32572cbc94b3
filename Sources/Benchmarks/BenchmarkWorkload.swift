/// The request pattern of a ``ServingBenchmark``. Prompts are token ids drawn uniformly from a
/// vocabulary range, so prompt lengths are exact and no tokenizer is involved.
public enum BenchmarkWorkload: Sendable, Equatable {
    /// `groups` system prompts of `systemTokens` each, shared by `perGroup` requests that append a
    /// private `questionTokens` question; all requests are shuffled together.
    case sharedPrefix(groups: Int, perGroup: Int, systemTokens: Int, questionTokens: Int)
    /// `conversations` chats of `turns` turns: turn 1 sends a `systemTokens` system prompt plus a
    /// question; turn k sends turn k−1's prompt, its output and a new `questionTokens` question.
    case multiTurn(conversations: Int, turns: Int, systemTokens: Int, questionTokens: Int)
    /// `requests` unrelated prompts of `promptTokens` each.
    case random(requests: Int, promptTokens: Int)

    /// `shared-prefix`, `multi-turn` or `random`.
    public var name: String {
        switch self {
        case .sharedPrefix: "shared-prefix"
        case .multiTurn: "multi-turn"
        case .random: "random"
        }
    }

    /// Requests sent in the measured phase.
    public var requestCount: Int {
        switch self {
        case .sharedPrefix(let groups, let perGroup, _, _): groups * perGroup
        case .multiTurn(let conversations, let turns, _, _): conversations * turns
        case .random(let requests, _): requests
        }
    }

    /// Length of the first prompt of a conversation (also the warm-up prompt length).
    public var firstPromptLength: Int {
        switch self {
        case .sharedPrefix(_, _, let system, let question), .multiTurn(_, _, let system, let question): system + question
        case .random(_, let promptTokens): promptTokens
        }
    }

    /// The longest prompt + output of any request when each generates `outputTokens`; compare
    /// with the model's context length before running.
    public func longestSequence(outputTokens: Int) -> Int {
        switch self {
        case .multiTurn(_, let turns, let system, let question):
            system + turns * question + turns * outputTokens
        default:
            firstPromptLength + outputTokens
        }
    }

    /// Draws the prompts. Conversations are returned in the order they are sent.
    public func makeConversations(
        vocabulary: Range<Int>, using generator: inout some RandomNumberGenerator
    ) -> [BenchmarkConversation] {
        func tokens(_ count: Int) -> [Int] { (0..<count).map { _ in Int.random(in: vocabulary, using: &generator) } }
        switch self {
        case .sharedPrefix(let groups, let perGroup, let systemTokens, let questionTokens):
            let prefixes = (0..<groups).map { _ in tokens(systemTokens) }
            var conversations = prefixes.flatMap { prefix in
                (0..<perGroup).map { _ in BenchmarkConversation(turns: [prefix + tokens(questionTokens)]) }
            }
            conversations.shuffle(using: &generator)
            return conversations
        case .multiTurn(let count, let turns, let systemTokens, let questionTokens):
            return (0..<count).map { _ in
                let first = tokens(systemTokens) + tokens(questionTokens)
                return BenchmarkConversation(turns: [first] + (1..<max(turns, 1)).map { _ in tokens(questionTokens) })
            }
        case .random(let requests, let promptTokens):
            return (0..<requests).map { _ in BenchmarkConversation(turns: [tokens(promptTokens)]) }
        }
    }
}

extension BenchmarkWorkload {
    /// The workload named `name` (`multi-turn`, `random`, anything else `shared-prefix`), shaped by
    /// those of the counts it uses: `groups` shared-prefix groups or multi-turn conversations of
    /// `turns` turns, `perGroup` requests per group, a `systemTokens` shared prefix or system
    /// prompt and `questionTokens` questions, or `requests` random prompts of `promptTokens`.
    public init(
        name: String, groups: Int, perGroup: Int, turns: Int, systemTokens: Int, questionTokens: Int, requests: Int,
        promptTokens: Int
    ) {
        switch name {
        case "multi-turn":
            self = .multiTurn(conversations: groups, turns: turns, systemTokens: systemTokens, questionTokens: questionTokens)
        case "random":
            self = .random(requests: requests, promptTokens: promptTokens)
        default:
            self = .sharedPrefix(groups: groups, perGroup: perGroup, systemTokens: systemTokens, questionTokens: questionTokens)
        }
    }
}

/// The prompts of one conversation: the first turn's whole prompt, then each later turn's new
/// question, which is sent after the previous turn's prompt and output. Single-request workloads
/// have one turn.
public struct BenchmarkConversation: Sendable, Equatable {
    public var turns: [[Int]]

    public init(turns: [[Int]]) {
        precondition(!turns.isEmpty, "a conversation has at least one turn")
        self.turns = turns
    }
}
