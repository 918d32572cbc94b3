/// What a device can do, as data (not subclass checks). Core reads it once, before it loads a
/// model or allocates a KV cache for the device, and refuses with an error naming the missing
/// capability (``ComputeDevice/check(_:)``); nothing falls back silently.
public struct DeviceCapabilities: Sendable, Hashable {
    /// Weight dtypes the device can compute with directly.
    public var weightDTypes: Set<DType>
    /// Element types the device can hold its paged KV cache in (``KVCacheSpec/dtype``).
    public var kvCacheDTypes: Set<DType>
    /// Tokens per KV page the device's cache layout and attention accept.
    public var pageSizes: PageSizeRule
    /// Whether the device reads host memory directly, so weights can be used from a memory-mapped
    /// checkpoint without a copy.
    public var sharesHostMemory: Bool
    /// Whether the host can read and write the device's buffers in place
    /// (``DeviceBuffer/hostAddress`` is non-nil); otherwise results come back through
    /// ``ComputeBackend/download(_:into:)``.
    public var hasHostVisibleBuffers: Bool
    /// Largest number of worker threads (or streams) a backend may use.
    public var maxThreads: Int
    /// Most rows (new tokens) one forward step may have, or `nil` when only memory limits it.
    public var maxRowsPerStep: Int?
    /// Optional hooks the device's backends implement (flags only; core uses a hook only where
    /// it is claimed here).
    public var hooks: OptionalHooks
    /// Largest `k` of ``ComputeBackend/topK(_:k:ids:values:)`` (with ``OptionalHooks/deviceTopK``).
    public var maxTopK: Int

    public init(
        weightDTypes: Set<DType>, kvCacheDTypes: Set<DType>, pageSizes: PageSizeRule, sharesHostMemory: Bool,
        hasHostVisibleBuffers: Bool, maxThreads: Int, maxRowsPerStep: Int? = nil, hooks: OptionalHooks = [],
        maxTopK: Int = 0
    ) {
        self.weightDTypes = weightDTypes
        self.kvCacheDTypes = kvCacheDTypes
        self.pageSizes = pageSizes
        self.sharesHostMemory = sharesHostMemory
        self.hasHostVisibleBuffers = hasHostVisibleBuffers
        self.maxThreads = maxThreads
        self.maxRowsPerStep = maxRowsPerStep
        self.hooks = hooks
        self.maxTopK = maxTopK
    }

    /// Each requirement these capabilities miss, as a phrase for an error message
    /// (`KV cache dtype bf16 is not supported (supports: f32)`); empty when every one is met.
    public func missing(_ requirements: DeviceRequirements) -> [String] {
        var missing: [String] = []
        for dtype in requirements.weightDTypes.sorted(by: { $0.rawValue < $1.rawValue }) where !weightDTypes.contains(dtype) {
            missing.append("weight dtype \(dtype) is not supported (supports: \(Self.list(weightDTypes)))")
        }
        if let dtype = requirements.kvCacheDType, !kvCacheDTypes.contains(dtype) {
            missing.append("KV cache dtype \(dtype) is not supported (supports: \(Self.list(kvCacheDTypes)))")
        }
        if let pageSize = requirements.pageSize, !pageSizes.allows(pageSize) {
            missing.append("page size \(pageSize) is not supported (supports: \(pageSizes))")
        }
        if let rows = requirements.rowsPerStep, let limit = maxRowsPerStep, rows > limit {
            missing.append("\(rows) rows per step exceed its limit of \(limit) (lower --max-batched-tokens)")
        }
        let absent = requirements.hooks.subtracting(hooks)
        if !absent.isEmpty {
            missing.append("optional hooks \(absent) are not implemented (implements: \(hooks.isEmpty ? "none" : "\(hooks)"))")
        }
        return missing
    }

    private static func list(_ dtypes: Set<DType>) -> String {
        dtypes.isEmpty ? "none" : dtypes.map(\.description).sorted().joined(separator: ", ")
    }
}

/// Tokens per KV page a device accepts.
public enum PageSizeRule: Sendable, Hashable, CustomStringConvertible {
    /// Every page size of at least one token.
    case any
    /// Positive multiples of this many tokens (a kernel's tile height, say).
    case multiples(of: Int)
    /// Exactly these sizes.
    case oneOf(Set<Int>)

    /// Whether pages of `pageSize` tokens are accepted.
    public func allows(_ pageSize: Int) -> Bool {
        guard pageSize >= 1 else { return false }
        switch self {
        case .any: return true
        case .multiples(let step): return step >= 1 && pageSize % step == 0
        case .oneOf(let sizes): return sizes.contains(pageSize)
        }
    }

    public var description: String {
        switch self {
        case .any: "any page size"
        case .multiples(let step): "multiples of \(step)"
        case .oneOf(let sizes): sizes.sorted().map(String.init).joined(separator: ", ")
        }
    }
}
