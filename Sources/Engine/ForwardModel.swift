// The one call a step runner needs from a model: local or tensor-parallel.

import Backends
import Models

/// Something that runs one forward step and returns logits: a ``Models/LlamaModel`` in this
/// process, or ``TensorParallelLeader``, which also drives the other ranks of its group.
///
/// Contract: not thread-safe (engine thread only). ``forward(_:cache:)`` returns a
/// `[batch.logitRows.count, config.vocabularySize]` tensor on ``backend``, valid until the next
/// call. `cache` must be made by ``backend`` (`makeKVCache`) for a `KVCacheSpec` of ``config`` and
/// ``shard``, and be the same cache on every call (followers mirror its geometry).
///
/// Lifecycle for owners that idle (the ``EngineLoop``): while waiting for work, call
/// ``keepAlive()`` at least every ``keepAliveInterval``; once done, call ``shutdown(reason:)``
/// exactly once and make no further calls.
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
    func forward(_ batch: StepInputs, cache: any KVCacheStorage) throws -> Tensor

    /// How often an idle owner must call ``keepAlive()``, or `nil` when the model never needs it.
    /// Optional; defaults to `nil`.
    var keepAliveInterval: Duration? { get }
    /// Tells whatever the model depends on (other ranks) that its owner is idle, not dead. Cheap
    /// when called more often than needed. Throws when the model can no longer run.
    /// Optional; defaults to doing nothing.
    func keepAlive() throws
    /// The error that makes every further ``forward(_:cache:)`` fail (a lost tensor-parallel
    /// peer), or `nil` while the model is usable. Optional; defaults to `nil`.
    var failure: (any Error)? { get }
    /// Releases what the model holds beyond this process (tells other ranks to exit). Idempotent.
    /// Optional; defaults to doing nothing.
    func shutdown(reason: String)
}

extension ForwardModel {
    public var keepAliveInterval: Duration? { nil }
    public func keepAlive() throws {}
    public var failure: (any Error)? { nil }
    public func shutdown(reason: String) {}
}

extension LlamaModel: ForwardModel {}
