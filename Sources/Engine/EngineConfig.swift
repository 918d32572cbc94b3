// RadixServe: engine configuration and KV memory budgeting.

import Backends
import Foundation
import Models
import Scheduling
import StructuredOutput

/// How much memory the paged KV cache may take.
public enum KVMemoryBudget: Sendable, Hashable {
    /// A fixed number of bytes.
    case bytes(Int)
    /// A fraction in `(0, 1]` of the memory available now (`MemAvailable` on Linux), at most
    /// ``fractionCapBytes``.
    case fractionOfAvailable(Double)
    /// Exactly this many pages (tests and experiments).
    case pages(Int)

    /// Default: 30% of available memory (at most ``fractionCapBytes``).
    public static let `default` = KVMemoryBudget.fractionOfAvailable(0.3)

    /// Upper bound of a fractional budget of host memory: the pool is zeroed at start, so an
    /// unbounded share of a large host would cost seconds of start-up and resident memory a CPU
    /// engine cannot use. A device's own memory is not capped.
    public static let fractionCapBytes = 4 << 30

    /// Parses a byte count with an optional binary suffix: `4096`, `512K`, `512M`, `2G`, `1.5G`
    /// (`K`/`M`/`G`/`T`, optionally followed by `B` or `iB`, case-insensitive).
    /// Returns `nil` for anything else or for less than one byte.
    public static func parseBytes(_ text: String) -> Int? {
        var number = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where number.hasSuffix(suffix) {
            number.removeLast(suffix.count)
            break
        }
        var multiplier = 1.0
        if let last = number.last, let power = ["K": 1.0, "M": 2.0, "G": 3.0, "T": 4.0][String(last)] {
            multiplier = pow(1024, power)
            number.removeLast()
        }
        guard let value = Double(number), value.isFinite, value > 0 else { return nil }
        let bytes = value * multiplier
        guard bytes >= 1, bytes < Double(Int.max) else { return nil }
        return Int(bytes)
    }

    /// Why `text` is not a usable `--kv-memory` value (a byte count, or a fraction of available
    /// memory of at most 0.9), or nil when it is one.
    public static func problem(_ text: String) -> String? {
        switch parse(text) {
        case nil: "--kv-memory '\(text)' is neither a byte count like 512M or 2G nor a fraction like 0.3"
        case .fractionOfAvailable(let fraction) where fraction > 0.9:
            "--kv-memory as a fraction of available RAM must be at most 0.9, got \(text)"
        default: nil
        }
    }

    /// Parses a budget given as one value: a plain number in `(0, 1)` is a fraction of available
    /// memory (`0.3`), anything else a byte count as ``parseBytes(_:)`` reads it (`512M`).
    /// Returns `nil` when it is neither.
    public static func parse(_ text: String) -> KVMemoryBudget? {
        if let fraction = Double(text.trimmingCharacters(in: .whitespaces)), fraction > 0, fraction < 1 {
            return .fractionOfAvailable(fraction)
        }
        return parseBytes(text).map(KVMemoryBudget.bytes)
    }

    /// Bytes of memory the kernel reports as available, or `nil` when unknown.
    public static func availableMemoryBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else {
            return Int(ProcessInfo.processInfo.physicalMemory)
        }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kilobytes = Int(fields[1]) { return kilobytes * 1024 }
        }
        return nil
    }

    /// The page count this budget buys at `bytesPerPage`, at least 1 and at most `limit`. A
    /// fraction is of `availableBytes` when given (a device's own free memory), else of the host's.
    public func pageCount(bytesPerPage: Int, limit: Int, availableBytes: Int? = nil) -> Int {
        precondition(bytesPerPage > 0 && limit > 0)
        let pages: Int
        switch self {
        case .pages(let count):
            return max(1, count)
        case .bytes(let bytes):
            pages = bytes / bytesPerPage
        case .fractionOfAvailable(let fraction):
            // The cap keeps a default budget modest on a large host; a device's own memory is all KV's.
            let budget = availableBytes.map { Double($0) * fraction }
                ?? min(Double(Self.availableMemoryBytes() ?? (1 << 30)) * fraction, Double(Self.fractionCapBytes))
            pages = Int(budget) / bytesPerPage
        }
        return min(max(1, pages), limit)
    }
}

/// Static configuration of an ``EngineLoop``.
public struct EngineConfig: Sendable {
    /// Tokens per KV page.
    public var pageSize: Int
    /// KV pool size.
    public var kvMemory: KVMemoryBudget
    /// Element type of the KV cache (`--kv-dtype`). The device must list it in
    /// ``Backends/DeviceCapabilities/kvCacheDTypes``; the engine refuses to start otherwise.
    public var kvCacheDType: DType
    /// Token budget of one prefill step (capped by the model's `maxStepTokens`).
    public var maxBatchedTokens: Int
    /// Maximum admitted requests (capped by the model's `maxLogitRows`).
    public var maxRunningRequests: Int
    /// Admission order.
    public var policy: SchedulingPolicy
    /// When false, requests never share cached prefixes (each gets a private cache namespace;
    /// retracted requests still reuse their own KV).
    public var isPrefixCacheEnabled: Bool
    /// Seed of the engine's generator, which seeds requests that carry no seed.
    public var seed: UInt64
    /// Extra end-of-sequence tokens (e.g. the tokenizer's), besides the model config's.
    public var extraEOSTokenIDs: Set<Int32>
    /// Run ``Scheduling/Scheduler/checkIntegrity()`` after every step (tests; O(pages)).
    public var isCheckingIntegrity: Bool
    /// Record prefix-cache changes and hand them to the ``EngineLoop``'s cache-event sink once
    /// per step (for a router's global index). Off: nothing is recorded.
    public var isPublishingKVEvents: Bool
    /// Seed of the published page-hash chains (``RadixTree/PageHasher``); must equal the router's.
    public var hashSeed: UInt64
    /// Sample on the device where it claims argmax or top-k and a step's requests allow it
    /// (``ModelRunner``); off: every step downloads the full logits rows (`--host-sampling`).
    public var usesDeviceSampling: Bool
    /// The model's tokens as bytes, against which output constraints (structured outputs) are
    /// compiled; nil: a request with a constraint finishes with an error saying so.
    public var vocabulary: TokenVocabulary?
    /// Deterministic mode (`--deterministic`): the device runs batch-invariant kernels
    /// (``Backends/OptionalHooks/batchInvariant``), so a request's tokens and logprobs are bitwise
    /// the same whatever else runs in its steps, whether its prefix came from the cache, and
    /// however its prefill was chunked. One rank only (tensor parallelism is refused).
    public var isDeterministic: Bool

    /// Creates a configuration.
    public init(
        pageSize: Int = 16,
        kvMemory: KVMemoryBudget = .default,
        kvCacheDType: DType = .f32,
        maxBatchedTokens: Int = 2048,
        maxRunningRequests: Int = 64,
        policy: SchedulingPolicy = .fcfs,
        isPrefixCacheEnabled: Bool = true,
        seed: UInt64 = 0,
        extraEOSTokenIDs: Set<Int32> = [],
        isCheckingIntegrity: Bool = false,
        isPublishingKVEvents: Bool = false,
        hashSeed: UInt64 = SchedulerConfig(pageCount: 1).hashSeed,
        usesDeviceSampling: Bool = true,
        vocabulary: TokenVocabulary? = nil,
        isDeterministic: Bool = false
    ) {
        self.pageSize = pageSize
        self.kvMemory = kvMemory
        self.kvCacheDType = kvCacheDType
        self.maxBatchedTokens = maxBatchedTokens
        self.maxRunningRequests = maxRunningRequests
        self.policy = policy
        self.isPrefixCacheEnabled = isPrefixCacheEnabled
        self.seed = seed
        self.extraEOSTokenIDs = extraEOSTokenIDs
        self.isCheckingIntegrity = isCheckingIntegrity
        self.isPublishingKVEvents = isPublishingKVEvents
        self.hashSeed = hashSeed
        self.usesDeviceSampling = usesDeviceSampling
        self.vocabulary = vocabulary
        self.isDeterministic = isDeterministic
    }

    /// What this configuration needs of a device: its KV cache dtype and page size, and
    /// batch-invariant kernels in deterministic mode. Commands
    /// pass it to the model loader so a device that lacks either is refused before weights load.
    public var deviceRequirements: DeviceRequirements {
        DeviceRequirements(kvCacheDType: kvCacheDType, pageSize: pageSize, hooks: isDeterministic ? [.batchInvariant] : [])
    }

    /// The KV cache `model` needs for `pageCount` pages under this configuration.
    func kvCacheSpec(for model: any ForwardModel, pageCount: Int = 1) -> KVCacheSpec {
        KVCacheSpec(config: model.config, shard: model.shard, pageSize: pageSize, pageCount: pageCount, dtype: kvCacheDType)
    }

    /// The scheduler configuration for `model`: page count from the budget at the bytes per page
    /// the model's backend reports for its own KV layout (never more than every running request
    /// at full context could use, plus as much again for cached prefixes), step limits clamped to
    /// the model's workspace.
    /// - Throws: ``Backends/BackendError`` when the device cannot hold this KV cache.
    func schedulerConfig(for model: any ForwardModel) throws -> SchedulerConfig {
        let maxLength = model.config.maxPositionEmbeddings
        let running = max(1, min(maxRunningRequests, model.maxLogitRows))
        let bytesPerPage = try model.backend.kvCacheBytesPerPage(kvCacheSpec(for: model))
        let limit = 2 * running * ((maxLength + pageSize - 1) / pageSize)
        // A device with its own memory (weights already loaded) is budgeted by what it has left.
        let device = model.backend.device
        let memory = device.memoryInfo()
        let deviceFree = device.capabilities.sharesHostMemory || memory.total == 0 ? nil : memory.free
        return SchedulerConfig(
            pageCount: kvMemory.pageCount(bytesPerPage: bytesPerPage, limit: limit, availableBytes: deviceFree),
            pageSize: pageSize,
            maxBatchedTokens: max(1, min(maxBatchedTokens, model.maxStepTokens)),
            maxRunningRequests: running,
            policy: policy,
            eosTokenIDs: Set(model.config.eosTokenIDs.map(Int32.init)).union(extraEOSTokenIDs),
            maxModelLength: maxLength,
            hashSeed: hashSeed,
            isRecordingKVEvents: isPublishingKVEvents
        )
    }
}

extension EngineConfig {
    /// The first problem with the engine flags of a command (`--kv-memory`, `--kv-fraction`,
    /// `--max-running-requests`, `--max-batched-tokens`), named as the flag is spelled, or nil.
    public static func flagsProblem(kvMemory: String?, kvFraction: Double, maxRunningRequests: Int, maxBatchedTokens: Int) -> String? {
        if let problem = kvMemory.flatMap(KVMemoryBudget.problem) { return problem }
        guard kvFraction.isFinite, kvFraction > 0, kvFraction <= 0.9 else { return "--kv-fraction must be in (0, 0.9], got \(kvFraction)" }
        guard maxRunningRequests >= 1 else { return "--max-running-requests must be ≥ 1" }
        guard maxBatchedTokens >= 1 else { return "--max-batched-tokens must be ≥ 1" }
        return nil
    }
}
