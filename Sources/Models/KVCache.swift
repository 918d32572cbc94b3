import Backends

/// Allocates the paged KV cache of a model shard on its backend.
public enum KVCache {
    /// Bytes one page takes across all layers, K and V, for this shard.
    public static func bytesPerPage(config: ModelConfig, shard: TensorParallelShard, pageSize: Int) -> Int {
        2 * config.layerCount * shard.localKVHeads(config).count * pageSize * config.headDim * MemoryLayout<Float>.size
    }

    /// Makes a cache of `pageCount` pages of `pageSize` tokens.
    public static func make(
        config: ModelConfig, shard: TensorParallelShard, pageCount: Int, pageSize: Int, backend: any ComputeBackend
    ) throws -> KVCacheView {
        precondition(pageCount > 0 && pageSize > 0, "empty KV cache")
        let kvHeads = shard.localKVHeads(config).count
        let bytes = KVCacheView.byteCount(
            layerCount: config.layerCount, pageCount: pageCount, pageSize: pageSize, kvHeadCount: kvHeads,
            headDim: config.headDim)
        return KVCacheView(
            key: try backend.allocate(byteCount: bytes, usage: .kvCache),
            value: try backend.allocate(byteCount: bytes, usage: .kvCache),
            layerCount: config.layerCount, pageCount: pageCount, pageSize: pageSize, kvHeadCount: kvHeads,
            headDim: config.headDim)
    }
}
