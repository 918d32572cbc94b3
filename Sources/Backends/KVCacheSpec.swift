/// What core needs of a paged KV cache: its geometry and element type. The backend chooses the
/// layout (``ComputeBackend/makeKVCache(_:)``); core addresses the cache only by page id and slot
/// (`slot = page × pageSize + offset`, `page < pageCount`).
public struct KVCacheSpec: Sendable, Hashable, CustomStringConvertible {
    /// Decoder layers, each with its own keys and values.
    public var layerCount: Int
    /// KV heads this cache holds (this tensor-parallel shard's).
    public var kvHeadCount: Int
    /// Features per head.
    public var headDim: Int
    /// Tokens per page.
    public var pageSize: Int
    /// Pages in the pool. Ignored by ``ComputeBackend/kvCacheBytesPerPage(_:)``.
    public var pageCount: Int
    /// Element type of the stored keys and values. A backend allocates exactly this dtype or
    /// refuses (``DeviceCapabilities/kvCacheDTypes``); it never substitutes another.
    public var dtype: DType

    public init(layerCount: Int, kvHeadCount: Int, headDim: Int, pageSize: Int, pageCount: Int, dtype: DType = .f32) {
        self.layerCount = layerCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.pageSize = pageSize
        self.pageCount = pageCount
        self.dtype = dtype
    }

    /// Slots in the pool: `pageCount × pageSize`.
    public var slotCount: Int { pageCount * pageSize }

    /// Elements of keys (or of values) in one page across all layers, whatever the layout.
    public var elementsPerPage: Int { layerCount * kvHeadCount * pageSize * headDim }

    public var description: String {
        "\(layerCount) layers × \(kvHeadCount) KV heads × \(headDim), \(pageCount) pages of \(pageSize) tokens, \(dtype)"
    }
}
