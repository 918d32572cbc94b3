// Payload types of router ⇄ worker messages (docs/WIRE_PROTOCOL.md, "Router ⇄ worker").
// Shared values (sampling parameters, finish reasons, logprobs, cache events, load) come from
// ServingTypes and are encoded as they are, so the codec stays independent of the engine.

import ServingTypes

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
    /// How the worker serves (``WorkerFeatures``).
    public var features: WorkerFeatures

    /// Creates a registration.
    public init(
        protocolRevision: UInt32 = WorkerMessageLimits.protocolRevision, workerID: UInt32, incarnation: UInt64,
        modelID: String, modelFingerprint: String, pageSize: UInt32, hashSeed: UInt64, tensorParallelSize: UInt32,
        capacityPages: UInt32, maxModelLength: UInt32, features: WorkerFeatures = []
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
        self.features = features
    }
}

/// `register.features`: how a worker serves, as bits (the others are reserved and must be 0).
public struct WorkerFeatures: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// Bit 0: deterministic mode (`--deterministic`): a request's tokens and logprobs do not depend
    /// on batching, prefix-cache hits or prefill chunking.
    public static let deterministic = WorkerFeatures(rawValue: 1 << 0)

    /// Every defined bit.
    public static let known: WorkerFeatures = [.deterministic]
}

/// One generation request dispatched to a worker.
public struct WorkerSubmit: Sendable, Hashable {
    /// Router-assigned, unique among the router's live requests.
    public var requestID: UInt64
    /// Prompt tokens (the router tokenizes once; workers never re-tokenize).
    public var tokenIDs: [Int32]
    public var params: SamplingParams
    /// How many of `tokenIDs`' last tokens are output another worker already generated (a request
    /// the router moved): they count toward an output constraint's progress, not the prompt's.
    public var resumedOutputCount: UInt32

    /// Creates a submission.
    public init(requestID: UInt64, tokenIDs: [Int32], params: SamplingParams, resumedOutputCount: UInt32 = 0) {
        self.requestID = requestID
        self.tokenIDs = tokenIDs
        self.params = params
        self.resumedOutputCount = resumedOutputCount
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
    public var logprobs: [TokenLogprobs]

    /// Creates an output.
    public init(requestID: UInt64, firstIndex: UInt32, tokenIDs: [Int32], logprobs: [TokenLogprobs] = []) {
        self.requestID = requestID
        self.firstIndex = firstIndex
        self.tokenIDs = tokenIDs
        self.logprobs = logprobs
    }
}

/// The end of a request, with its token counts.
public struct RequestFinish: Sendable, Hashable {
    public var requestID: UInt64
    public var reason: FinishReason
    public var promptTokens: UInt32
    public var completionTokens: UInt32
    /// Prompt tokens served from the worker's prefix cache.
    public var cachedTokens: UInt32

    /// Creates a record.
    public init(requestID: UInt64, reason: FinishReason, promptTokens: UInt32, completionTokens: UInt32, cachedTokens: UInt32) {
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

/// The cache events of one engine step.
public struct KVEventBatch: Sendable, Hashable {
    /// The sender's incarnation.
    public var incarnation: UInt64
    /// 1 for the first batch of an incarnation, then +1 per batch; a gap means a lost batch.
    public var sequence: UInt64
    /// At least one event, in the order the changes happened.
    public var events: [CacheEvent]

    /// Creates a batch.
    public init(incarnation: UInt64, sequence: UInt64, events: [CacheEvent]) {
        self.incarnation = incarnation
        self.sequence = sequence
        self.events = events
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
    /// Counts travel as `u32` (clamped); speeds as `f64`, 0 when unmeasured.
    public var load: LoadReport

    /// Creates a heartbeat; the load defaults to idle.
    public init(incarnation: UInt64, sequence: UInt64, load: LoadReport = LoadReport()) {
        self.incarnation = incarnation
        self.sequence = sequence
        self.load = load
    }
}
