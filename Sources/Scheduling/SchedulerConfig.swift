// RadixServe: scheduler configuration.

import ServingTypes

/// The order in which waiting requests are admitted.
public enum SchedulingPolicy: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// First come, first served.
    case fcfs
    /// Longest cached prefix first (ties by arrival), as SGLang's `lpm`; falls back to FCFS
    /// when more than ``SchedulerConfig/prefixOrderingLimit`` requests wait.
    case longestPrefixMatch

    /// The policy's short name, as `--schedule-policy` takes it and benchmark results report it:
    /// `fcfs` or `lpm` (SGLang's names).
    public var name: String {
        switch self {
        case .fcfs: "fcfs"
        case .longestPrefixMatch: "lpm"
        }
    }

    /// The policy named `name` (``name``, exactly), or nil.
    public init?(name: String) {
        guard let policy = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = policy
    }

    /// The policy's ``name``.
    public var description: String { name }
}

/// Static configuration of a ``Scheduler``.
public struct SchedulerConfig: Hashable, Sendable {
    /// Total KV pages in the pool (see ``KVPaging/PagePool/pageCount(budgetBytes:layerCount:kvHeadCount:headDim:pageSize:bytesPerElement:)``).
    public var pageCount: Int
    /// Tokens per KV page.
    public var pageSize: Int
    /// Token budget of a prefill step. Decode steps run one token per running request
    /// regardless; keep `maxRunningRequests` at or below this to bound decode batches too.
    public var maxBatchedTokens: Int
    /// Maximum admitted requests.
    public var maxRunningRequests: Int
    /// Admission order.
    public var policy: SchedulingPolicy
    /// End-of-sequence tokens of the model (ignored by requests with `ignoreEOS`).
    public var eosTokenIDs: Set<Int32>
    /// Maximum prompt + generated tokens of one request.
    public var maxModelLength: Int
    /// Seed of the page-hash chains published in KV events.
    public var hashSeed: UInt64
    /// When false, no KV events are recorded.
    public var isRecordingKVEvents: Bool
    /// Longest waiting queue that ``SchedulingPolicy/longestPrefixMatch`` sorts.
    public var prefixOrderingLimit: Int

    /// Creates a configuration. Preconditions (checked by ``Scheduler/init(config:)``):
    /// every count and size is positive.
    public init(
        pageCount: Int,
        pageSize: Int = 16,
        maxBatchedTokens: Int = 2048,
        maxRunningRequests: Int = 64,
        policy: SchedulingPolicy = .fcfs,
        eosTokenIDs: Set<Int32> = [],
        maxModelLength: Int = 4096,
        hashSeed: UInt64 = 0,
        isRecordingKVEvents: Bool = true,
        prefixOrderingLimit: Int = 128
    ) {
        self.pageCount = pageCount
        self.pageSize = pageSize
        self.maxBatchedTokens = maxBatchedTokens
        self.maxRunningRequests = maxRunningRequests
        self.policy = policy
        self.eosTokenIDs = eosTokenIDs
        self.maxModelLength = maxModelLength
        self.hashSeed = hashSeed
        self.isRecordingKVEvents = isRecordingKVEvents
        self.prefixOrderingLimit = prefixOrderingLimit
    }

    /// When a request is finished: its stop tokens, the model's EOS tokens, `maxTokens` and the
    /// model's maximum length.
    public var stopRule: StopRule { StopRule(eosTokenIDs: eosTokenIDs, maxModelLength: maxModelLength) }
}
