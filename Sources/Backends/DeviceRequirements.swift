/// What core needs from a device to run one model: checked against
/// ``DeviceCapabilities`` before the model's weights or KV cache are built. `nil` and empty
/// fields ask for nothing.
public struct DeviceRequirements: Sendable, Hashable {
    /// Dtypes of the checkpoint's weights.
    public var weightDTypes: Set<DType>
    /// The KV cache dtype asked for (`--kv-dtype`).
    public var kvCacheDType: DType?
    /// Tokens per KV page (`--page-size`).
    public var pageSize: Int?
    /// Rows of the largest step (the model's workspace).
    public var rowsPerStep: Int?
    /// Optional hooks core will call.
    public var hooks: OptionalHooks

    public init(
        weightDTypes: Set<DType> = [], kvCacheDType: DType? = nil, pageSize: Int? = nil, rowsPerStep: Int? = nil,
        hooks: OptionalHooks = []
    ) {
        self.weightDTypes = weightDTypes
        self.kvCacheDType = kvCacheDType
        self.pageSize = pageSize
        self.rowsPerStep = rowsPerStep
        self.hooks = hooks
    }

    /// Both sets of requirements; where both name a value, `other`'s wins.
    public func merging(_ other: DeviceRequirements) -> DeviceRequirements {
        DeviceRequirements(
            weightDTypes: weightDTypes.union(other.weightDTypes), kvCacheDType: other.kvCacheDType ?? kvCacheDType,
            pageSize: other.pageSize ?? pageSize, rowsPerStep: other.rowsPerStep ?? rowsPerStep,
            hooks: hooks.union(other.hooks))
    }
}

extension ComputeDevice {
    /// Throws unless this device meets every requirement.
    /// - Throws: ``BackendError`` with code `.missingCapability` whose message names the device and
    ///   each missing capability with what the device offers instead, e.g. `device 'reference'
    ///   cannot run this model: KV cache dtype bf16 is not supported (supports: f32)`.
    public func check(_ requirements: DeviceRequirements) throws(BackendError) {
        let missing = capabilities.missing(requirements)
        guard missing.isEmpty else {
            throw BackendError(.missingCapability, "device '\(name)' cannot run this model: \(missing.joined(separator: "; "))")
        }
    }

    /// Throws unless this device holds a KV cache of `spec`'s dtype and page size
    /// (``check(_:)``); backends call it from ``ComputeBackend/makeKVCache(_:)``.
    public func checkKVCache(_ spec: KVCacheSpec) throws(BackendError) {
        try check(DeviceRequirements(kvCacheDType: spec.dtype, pageSize: spec.pageSize))
    }
}
