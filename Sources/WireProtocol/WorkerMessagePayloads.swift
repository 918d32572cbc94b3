// Payload types of router ⇄ worker messages (docs/WIRE_PROTOCOL.md, "Router ⇄ worker").
// Plain values with no engine types, so the codec stays independent of Scheduling and KVPaging.

/// What a worker announces when it connects: the router refuses it unless the protocol
/// version, model fingerprint, page size and hash seed agree with the router's.
public struct WorkerRegistration: Sendable, Hashable {
    /// Revision of the router ⇄ worker message family the worker speaks (``WorkerMessageLimits/protocolRevision``).
    public var protocolRevision: UInt32
    /// The worker's id, stable across restarts; also its ZeroMQ routing id.
    public var workerID: UInt32
    /// Random per process start: a new value tells the router the worker's cache is empty.
    public var incarnation: UInt64
    /// The served model's name, for `/v1/models` and error messages (not compared).
    public var modelID: String
    /// Identifies the checkpoint (compared): FNV-1a 64 of config.json and tensor metadata, hex.
    public var modelFingerprint: String
    /// Tokens per KV page; must equal the router's.
    public var pageSize: UInt32
    /// Seed of the page-hash chain; must equal the router's.
    public var hashSeed: UInt64
    /// Ranks in the worker's tensor-parallel group.
    public var tensorParallelSize: UInt32
    /// KV pages in the worker's pool.
    public var capacityPages: UInt32
    /// Longest sequence (prompt + output) the worker accepts.
    public var maxModelLength: UInt32

    /// Creates a registration.
    public init(
        protocolRevision: UInt32 = WorkerMessageLimits.protocolRevision, workerID: UInt32, incarnation: UInt64,
        modelID: String, modelFingerprint: String, pageSize: UInt32, hashSeed: UInt64, tensorParallelSize: UInt32,
        capacityPages: UInt32, maxModelLength: UInt32
    ) {
        self.protocolRevision = protocolRevision
        self.workerID = workerID
        self.incarnation = incarnation
        self.modelID = modelID
        self.modelFingerprint = modelFingerprint
        self.pageSize = pageSize
        self.hashSeed = hashSeed
        self.tensorParallelSize = tensorParallelSize
        self.capacityPages = capacityPages
        self.maxModelLength = maxModelLength
    }
}

/// Sampling and stopping parameters as they travel; mirrors `Scheduling.SamplingParams`.
/// The worker validates values on admission (and fails the request with a message); the
/// decoder only checks that floating-point fields are finite.
public struct WireSamplingParams: Sendable, Hashable {
    public var maxTokens: UInt32
    public var temperature: Double
    /// `0` or `-1`: disabled.
    public var topK: Int32
    public var topP: Double
    public var minP: Double
    /// `nil`: the worker seeds the request itself.
    public var seed: UInt64?
    public var frequencyPenalty: Double
    public var presencePenalty: Double
    public var repetitionPenalty: Double
    /// Sorted ascending on the wire, so equal sets encode to equal bytes.
    public var stopTokenIDs: [Int32]
    public var ignoreEOS: Bool
    /// Top log-probabilities to return per token; `nil`: none.
    public var logprobs: UInt32?
    /// Cache namespace (salt / adapter id): prefixes are shared only within one namespace.
    public var namespace: UInt64

    /// Creates parameters; the defaults are the engine's.
    public init(
        maxTokens: UInt32 = 16, temperature: Double = 1, topK: Int32 = 0, topP: Double = 1, minP: Double = 0,
        seed: UInt64? = nil, frequencyPenalty: Double = 0, presencePenalty: Double = 0, repetitionPenalty: Double = 1,
        stopTokenIDs: [Int32] = [], ignoreEOS: Bool = false, logprobs: UInt32? = nil, namespace: UInt64 = 0
    ) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.seed = seed
        self.frequencyPenalty = frequencyPenalty
        self.presencePenalty = presencePenalty
        self.repetitionPenalty = repetitionPenalty
        self.stopTokenIDs = stopTokenIDs
        self.ignoreEOS = ignoreEOS
        self.logprobs = logprobs
        self.namespace = namespace
    }
}

/// One generation request dispatched to a worker.
public struct WorkerSubmit: Sendable, Hashable {
    /// Router-assigned, unique among the router's live requests.
    public var requestID: UInt64
    /// Prompt tokens (the router tokenizes once; workers never re-tokenize).
    public var tokenIDs: [Int32]
    public var params: WireSamplingParams

    /// Creates a submission.
    public init(requestID: UInt64, tokenIDs: [Int32], params: WireSamplingParams) {
        self.requestID = requestID
        self.tokenIDs = tokenIDs
        self.params = params
    }
}

/// Log-probabilities of one generated token (of the raw model logits).
public struct WireTokenLogprobs: Sendable, Hashable {
    /// Of the generated token.
    public var logprob: Float
    /// The most likely tokens, most likely first.
    public var top: [WireTopLogprob]

    /// Creates a record.
    public init(logprob: Float, top: [WireTopLogprob]) {
        self.logprob = logprob
        self.top = top
    }
}

/// A token id and its log-probability.
public struct WireTopLogprob: Sendable, Hashable {
    public var tokenID: Int32
    public var logprob: Float

    /// Creates a pair.
    public init(tokenID: Int32, logprob: Float) {
        self.tokenID = tokenID
        self.logprob = logprob
    }
}

/// Tokens one request produced since the last `tokens` message.
public struct TokenOutput: Sendable, Hashable {
    public var requestID: UInt64
    /// Output index of `tokenIDs[0]` (0 = first generated token), so gaps are detectable.
    public var firstIndex: UInt32
    /// At least one token.
    public var tokenIDs: [Int32]
    /// Empty, or one record per token when the request asked for log-probabilities.
    public var logprobs: [WireTokenLogprobs]

    /// Creates an output.
    public init(requestID: UInt64, firstIndex: UInt32, tokenIDs: [Int32], logprobs: [WireTokenLogprobs] = []) {
        self.requestID = requestID
        self.firstIndex = firstIndex
        self.tokenIDs = tokenIDs
        self.logprobs = logprobs
    }
}

/// Why a request ended (OpenAI `finish_reason` plus the engine's detail).
public enum WireFinishReason: Sendable, Hashable {
    /// Sampled a stop or end-of-sequence token (included in the output). Wire code 0.
    case stop(tokenID: Int32)
    /// Reached max tokens or the model's length. Wire code 1.
    case length
    /// Aborted. Wire code 2.
    case abort
    /// Refused or failed after admission; the message is for the client. Wire code 3.
    case error(message: String)
}

/// The end of a request, with its token counts.
public struct RequestFinish: Sendable, Hashable {
    public var requestID: UInt64
    public var reason: WireFinishReason
    public var promptTokens: UInt32
    public var completionTokens: UInt32
    /// Prompt tokens served from the worker's prefix cache.
    public var cachedTokens: UInt32

    /// Creates a record.
    public init(requestID: UInt64, reason: WireFinishReason, promptTokens: UInt32, completionTokens: UInt32, cachedTokens: UInt32) {
        self.requestID = requestID
        self.reason = reason
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedTokens = cachedTokens
    }
}

/// Why a worker could not take or run a request (the request produced no `finished`).
public struct WorkerFailureCode: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// The message could not be decoded.
    public static let malformedMessage = WorkerFailureCode(rawValue: 1)
    /// The request is invalid (parameters, token ids).
    public static let invalidRequest = WorkerFailureCode(rawValue: 2)
    /// The worker is shutting down or not registered.
    public static let unavailable = WorkerFailureCode(rawValue: 3)
    /// Another live request has the same id.
    public static let duplicateRequest = WorkerFailureCode(rawValue: 4)
    /// Anything else.
    public static let internalError = WorkerFailureCode(rawValue: 5)

    public var description: String {
        switch self {
        case .malformedMessage: "malformedMessage"
        case .invalidRequest: "invalidRequest"
        case .unavailable: "unavailable"
        case .duplicateRequest: "duplicateRequest"
        case .internalError: "internalError"
        default: "code\(rawValue)"
        }
    }
}

/// A change to a worker's prefix cache, as the router's global index consumes it (page
/// hashes only; the router hashes its own tokens).
public enum WireKVEvent: Sendable, Hashable {
    /// Pages cached as one chain under `parentHash` (`nil`: at the root of `namespace`). Wire tag 1.
    case stored(namespace: UInt64, parentHash: UInt64?, pageHashes: [UInt64])
    /// Pages evicted (leaves when removed). Wire tag 2.
    case removed(pageHashes: [UInt64])
    /// The whole cache was dropped. Wire tag 3.
    case cleared
}

/// The cache events of one engine step.
public struct KVEventBatch: Sendable, Hashable {
    /// The sender's incarnation.
    public var incarnation: UInt64
    /// 1 for the first batch of an incarnation, then +1 per batch; a gap means a lost batch.
    public var sequence: UInt64
    /// At least one event, in the order the changes happened.
    public var events: [WireKVEvent]

    /// Creates a batch.
    public init(incarnation: UInt64, sequence: UInt64, events: [WireKVEvent]) {
        self.incarnation = incarnation
        self.sequence = sequence
        self.events = events
    }
}

/// One cached chain of a snapshot: pages under `parentHash` in `namespace`, parents first.
public struct CachedChain: Sendable, Hashable {
    public var namespace: UInt64
    public var parentHash: UInt64?
    public var pageHashes: [UInt64]

    /// Creates a chain.
    public init(namespace: UInt64, parentHash: UInt64?, pageHashes: [UInt64]) {
        self.namespace = namespace
        self.parentHash = parentHash
        self.pageHashes = pageHashes
    }
}

/// A worker's whole cached page set, sent when the router asks (after a gap or restart).
public struct CacheSnapshot: Sendable, Hashable {
    public var incarnation: UInt64
    /// The sequence of the last `kvEvents` batch whose effects the snapshot includes.
    public var sequence: UInt64
    /// Every cached chain, parents before children.
    public var chains: [CachedChain]

    /// Creates a snapshot.
    public init(incarnation: UInt64, sequence: UInt64, chains: [CachedChain]) {
        self.incarnation = incarnation
        self.sequence = sequence
        self.chains = chains
    }
}

/// A worker's load, sent periodically (and whenever the router needs liveness).
public struct WorkerHeartbeat: Sendable, Hashable {
    public var incarnation: UInt64
    /// The sequence of the last `kvEvents` batch sent (0 before the first).
    public var sequence: UInt64
    public var runningCount: UInt32
    public var waitingCount: UInt32
    /// Prompt tokens of waiting requests still to prefill (0 when unknown).
    public var waitingPrefillTokens: UInt32
    public var freePages: UInt32
    public var evictablePages: UInt32
    public var cachedPages: UInt32
    public var totalPages: UInt32
    /// Recent prefill speed, tokens per second (0 when unmeasured).
    public var prefillTokensPerSecond: Double
    /// Recent decode speed, tokens per second (0 when unmeasured).
    public var decodeTokensPerSecond: Double

    /// Creates a heartbeat; load figures default to idle.
    public init(
        incarnation: UInt64, sequence: UInt64, runningCount: UInt32 = 0, waitingCount: UInt32 = 0,
        waitingPrefillTokens: UInt32 = 0, freePages: UInt32 = 0, evictablePages: UInt32 = 0, cachedPages: UInt32 = 0,
        totalPages: UInt32 = 0, prefillTokensPerSecond: Double = 0, decodeTokensPerSecond: Double = 0
    ) {
        self.incarnation = incarnation
        self.sequence = sequence
        self.runningCount = runningCount
        self.waitingCount = waitingCount
        self.waitingPrefillTokens = waitingPrefillTokens
        self.freePages = freePages
        self.evictablePages = evictablePages
        self.cachedPages = cachedPages
        self.totalPages = totalPages
        self.prefillTokensPerSecond = prefillTokensPerSecond
        self.decodeTokensPerSecond = decodeTokensPerSecond
    }
}
