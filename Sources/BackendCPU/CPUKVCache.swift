import Backends

/// The CPU backend's paged KV cache, in f32 or bf16 (``CPUDevice`` lists both).
///
/// Layout of both the keys and the values: `[layer][page][kvHead][slot][headDim]` elements of the
/// cache's dtype, so the keys of one head in one page are a contiguous `pageSize × headDim` block
/// that attention reads in order. A token at absolute slot `s` (= page × pageSize + offset) of
/// layer `l`, head `h` lives at element `(((l × pageCount + page) × kvHeadCount + h) × pageSize +
/// offset) × headDim`. bf16 elements are the high halves of the f32 values, rounded to nearest
/// even by ``CPUBackend/storeKV(key:value:cache:layer:)``.
///
/// Memory comes from ``HostBuffer`` (mapped lazily: a large pool costs only the pages written).
/// Not thread-safe: the backend's owning thread writes it, its pool threads read it during attention.
final class CPUKVCache: KVCacheStorage {
    let spec: KVCacheSpec
    let keys: UnsafeMutableRawPointer
    let values: UnsafeMutableRawPointer
    private let keyBuffer: HostBuffer
    private let valueBuffer: HostBuffer

    /// The dtypes this layout stores.
    static let dtypes: Set<DType> = [.f32, .bf16]

    /// Bytes of one page: keys and values of every layer, no padding.
    static func bytesPerPage(_ spec: KVCacheSpec) -> Int { 2 * spec.elementsPerPage * spec.dtype.byteSize }

    init(_ spec: KVCacheSpec) {
        precondition(Self.dtypes.contains(spec.dtype) && spec.pageCount > 0 && spec.pageSize > 0, "CPU KV cache spec")
        self.spec = spec
        let bytes = spec.elementsPerPage * spec.pageCount * spec.dtype.byteSize
        keyBuffer = HostBuffer(byteCount: bytes, usage: .kvCache)
        valueBuffer = HostBuffer(byteCount: bytes, usage: .kvCache)
        keys = keyBuffer.hostAddress!
        values = valueBuffer.hostAddress!
    }

    var bytesPerPage: Int { Self.bytesPerPage(spec) }

    /// Element offset of (layer, page, head, slot offset 0).
    @inline(__always)
    func elementOffset(layer: Int, page: Int, head: Int) -> Int {
        (((layer &* spec.pageCount &+ page) &* spec.kvHeadCount &+ head) &* spec.pageSize) &* spec.headDim
    }

    /// Elements of one layer (of keys or of values).
    var layerElements: Int { spec.pageCount * spec.kvHeadCount * spec.pageSize * spec.headDim }
}

extension CPUBackend {
    public func kvCacheBytesPerPage(_ spec: KVCacheSpec) throws -> Int {
        try device.checkKVCache(spec)
        return CPUKVCache.bytesPerPage(spec)
    }

    public func makeKVCache(_ spec: KVCacheSpec) throws -> any KVCacheStorage {
        try device.checkKVCache(spec)
        guard spec.pageCount > 0 else { throw BackendError(.invalidArgument, "a KV cache needs at least one page, got \(spec)") }
        return CPUKVCache(spec)
    }

    /// The cache as this backend made it.
    func ownCache(_ cache: any KVCacheStorage) -> CPUKVCache {
        guard let own = cache as? CPUKVCache else {
            preconditionFailure("a KV cache of another backend was passed to the CPU backend")
        }
        return own
    }

    public func storeKV(key: Tensor, value: Tensor, cache: any KVCacheStorage, layer: Int) {
        let slotMapping = step.slotMapping
        let cache = ownCache(cache)
        let spec = cache.spec
        let d = spec.headDim
        precondition(key.columns == spec.kvHeadCount * d && value.columns == key.columns, "storeKV shape")
        precondition(key.rows == slotMapping.count && value.rows == key.rows, "storeKV rows")
        precondition(layer >= 0 && layer < spec.layerCount, "storeKV layer \(layer) outside \(spec.layerCount)")
        let elementBytes = spec.dtype.byteSize
        let isBF16 = spec.dtype == .bf16
        for (i, slot) in slotMapping.enumerated() {
            let page = Int(slot) / spec.pageSize
            let offset = Int(slot) % spec.pageSize
            precondition(slot >= 0 && page < spec.pageCount, "slot outside the cache")
            for h in 0..<spec.kvHeadCount {
                let target = (cache.elementOffset(layer: layer, page: page, head: h) + offset * d) * elementBytes
                let keyRow = key.floats + i * key.rowStride + h * d
                let valueRow = value.floats + i * value.rowStride + h * d
                if isBF16 {
                    storeBF16(keyRow, cache.keys + target, d)
                    storeBF16(valueRow, cache.values + target, d)
                } else {
                    (cache.keys + target).assumingMemoryBound(to: Float.self).update(from: keyRow, count: d)
                    (cache.values + target).assumingMemoryBound(to: Float.self).update(from: valueRow, count: d)
                }
            }
        }
    }
}
