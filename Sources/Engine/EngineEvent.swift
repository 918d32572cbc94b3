// RadixServe: what goes into the engine loop and what comes out.

import Scheduling
import ServingTypes

/// One generation request submitted to an ``EngineLoop``.
public struct EngineRequest: Sendable, Hashable {
    /// The caller's id; must be unique among the engine's live requests.
    public var id: RequestID
    /// Prompt token ids (each in `0 ..< vocabularySize`).
    public var promptTokenIDs: [Int32]
    /// Sampling and stopping parameters, checked by ``SamplingParams/validate()`` on admission.
    public var params: SamplingParams
    /// How many of the last prompt tokens are output the request already generated (a router
    /// moving a streamed request to another worker re-prefills prompt + output): the output
    /// constraint and the frequency/presence penalties resume after them. `params` describe the
    /// rest of the request (`maxTokens` and `minTokens` count only new tokens). Range
    /// `0...promptTokenIDs.count - 1`.
    public var resumedOutputCount: Int

    /// Creates a request.
    public init(id: RequestID, promptTokenIDs: [Int32], params: SamplingParams, resumedOutputCount: Int = 0) {
        self.id = id
        self.promptTokenIDs = promptTokenIDs
        self.params = params
        self.resumedOutputCount = resumedOutputCount
    }
}

/// Token counts of a finished request (OpenAI `usage`, plus the prefix-cache hit).
public struct EngineUsage: Sendable, Hashable {
    /// Prompt tokens.
    public var promptTokenCount: Int
    /// Generated tokens.
    public var completionTokenCount: Int
    /// Prompt tokens whose KV came from the prefix cache at first admission.
    public var cachedTokenCount: Int

    /// Creates a record.
    public init(promptTokenCount: Int, completionTokenCount: Int, cachedTokenCount: Int) {
        self.promptTokenCount = promptTokenCount
        self.completionTokenCount = completionTokenCount
        self.cachedTokenCount = cachedTokenCount
    }
}

/// An outcome of the engine loop. Each request gets zero or more `.token` events (in
/// `index` order), then exactly one `.finished` event, after which its id is free again.
public enum EngineEvent: Sendable, Hashable {
    /// A generated token; `index` counts output tokens from 0. `logprobs` is set when the
    /// request asked for them.
    case token(requestID: RequestID, tokenID: Int32, index: Int, logprobs: TokenLogprobs?)
    /// The request is done. Errors (invalid parameters, oversize prompts, engine failures,
    /// shutdown) arrive as `.error(message:)`; client aborts as `.abort`.
    case finished(requestID: RequestID, reason: FinishReason, usage: EngineUsage)

    /// The request this event belongs to.
    public var requestID: RequestID {
        switch self {
        case .token(let id, _, _, _), .finished(let id, _, _): id
        }
    }
}
