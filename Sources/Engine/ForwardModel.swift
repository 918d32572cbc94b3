// The one call a step runner needs from a model: local or tensor-parallel.

import Backends
import Models

/// Something that runs one forward step and returns logits: a ``Models/LlamaModel`` in this
/// process, or ``TensorParallelLeader``, which also drives the other ranks of its group.
///
/// Contract: not thread-safe (engine thread only). ``forward(_:cache:)`` returns a
/// `[batch.logitRows.count, config.vocabularySize]` tensor on ``backend``, valid until the next
/// call. `cache` must be made with `KVCache.make(config:shard:…)` for ``shard`` and be the same
/// cache on every call (followers mirror its geometry).
public protocol ForwardModel: AnyObject {
    /// The model's configuration.
    var config: ModelConfig { get }
    /// The shard this process computes (rank 0 for a leader).
    var shard: TensorParallelShard { get }
    /// The backend holding the logits and the KV cache.
    var backend: any ComputeBackend { get }
    /// Largest number of new tokens in one step.
    var maxStepTokens: Int { get }
    /// Largest number of logit rows in one step.
    var maxLogitRows: Int { get }
    /// Runs one step over `cache` and returns the logits of `batch.logitRows`.
    func forward(_ batch: ForwardBatch, cache: KVCacheView) throws -> Tensor
}

extension LlamaModel: ForwardModel {}
