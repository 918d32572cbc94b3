import Backends

extension KVCacheSpec {
    /// The cache a model of `config` needs on tensor-parallel `shard` (its KV heads only):
    /// `pageCount` pages of `pageSize` tokens in `dtype`. Allocate it with
    /// ``Backends/ComputeBackend/makeKVCache(_:)`` on the model's backend.
    public init(config: ModelConfig, shard: TensorParallelShard, pageSize: Int, pageCount: Int = 1, dtype: DType = .f32) {
        self.init(
            layerCount: config.layerCount, kvHeadCount: shard.localKVHeads(config).count, headDim: config.headDim,
            pageSize: pageSize, pageCount: pageCount, dtype: dtype)
    }
}
