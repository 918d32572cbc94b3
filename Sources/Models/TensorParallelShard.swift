/// Which slice of a tensor-parallel group this process computes (Megatron-style).
///
/// Query heads, MLP rows and KV heads are split evenly; when there are fewer KV heads than ranks,
/// each rank keeps the one KV head its query heads read (replication).
public struct TensorParallelShard: Sendable, Hashable {
    public var rank: Int
    public var size: Int

    public init(rank: Int, size: Int) {
        precondition(size >= 1 && rank >= 0 && rank < size, "invalid tensor-parallel shard \(rank)/\(size)")
        self.rank = rank
        self.size = size
    }

    /// The whole model in one process.
    public static let single = TensorParallelShard(rank: 0, size: 1)

    /// Checks that `config` splits evenly `size` ways, with a message naming the offending sizes.
    public func validate(_ config: ModelConfig) throws {
        func check(_ value: Int, _ what: String) throws {
            guard value % size == 0 else {
                throw ModelError(.invalidConfig, "\(what) \(value) is not divisible by the tensor-parallel size \(size)")
            }
        }
        try check(config.headCount, "num_attention_heads")
        try check(config.intermediateSize, "intermediate_size")
        if config.kvHeadCount >= size {
            try check(config.kvHeadCount, "num_key_value_heads")
        } else {
            guard size % config.kvHeadCount == 0 else {
                throw ModelError(.invalidConfig,
                    "tensor-parallel size \(size) is not a multiple of num_key_value_heads \(config.kvHeadCount)")
            }
        }
    }

    /// Query heads on this rank.
    public func localHeads(_ config: ModelConfig) -> Range<Int> {
        let count = config.headCount / size
        return (rank * count)..<((rank + 1) * count)
    }

    /// KV heads on this rank.
    public func localKVHeads(_ config: ModelConfig) -> Range<Int> {
        if config.kvHeadCount >= size {
            let count = config.kvHeadCount / size
            return (rank * count)..<((rank + 1) * count)
        }
        let head = rank * config.kvHeadCount / size
        return head..<(head + 1)
    }

    /// MLP intermediate rows on this rank.
    public func localIntermediate(_ config: ModelConfig) -> Range<Int> {
        let count = config.intermediateSize / size
        return (rank * count)..<((rank + 1) * count)
    }
}
