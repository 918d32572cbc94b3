// RadixServe: the error type of the Scheduling module.

import ServingTypes

/// Why a request was refused. Returned to clients as a finish reason, never thrown across
/// the engine loop.
public enum SchedulingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A sampling parameter is out of range.
    case invalidParameter(InvalidParameter)
    /// The prompt has no tokens.
    case emptyPrompt
    /// `promptTokenCount + maxTokens` exceeds the model's context length.
    case exceedsMaxModelLength(promptTokenCount: Int, maxTokens: Int, limit: Int)
    /// The request could not fit in the KV pool even if it ran alone.
    case exceedsKVCapacity(requiredPages: Int, totalPages: Int)
    /// Another live request already has this id.
    case duplicateRequestID(RequestID)

    public var description: String {
        switch self {
        case .invalidParameter(let parameter):
            return parameter.description
        case .emptyPrompt:
            return "the prompt must contain at least one token"
        case .exceedsMaxModelLength(let prompt, let maxTokens, let limit):
            return "prompt (\(prompt) tokens) + max_tokens (\(maxTokens)) exceeds the maximum model length \(limit)"
        case .exceedsKVCapacity(let required, let total):
            return "the request needs \(required) KV pages but the worker has only \(total)"
        case .duplicateRequestID(let id):
            return "request id \(id) is already in use"
        }
    }
}
