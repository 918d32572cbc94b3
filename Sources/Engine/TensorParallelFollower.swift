// Ranks 1..<N of a tensor-parallel group: run the leader's steps in lock-step.

import Backends
import Foundation
import Collectives
import Logging
import Models
import WireProtocol

/// A follower rank: waits for the leader's messages and runs each step's shard locally.
/// Keeps one KV cache, in `kvCacheDType`, with the geometry of the leader's steps. Not thread-safe.
public final class TensorParallelFollower {
    public let sharded: ShardedForward
    /// Element type of this rank's KV cache.
    public let kvCacheDType: DType
    private var cache: (any KVCacheStorage)?
    /// Steps run.
    public private(set) var stepCount = 0

    public init(_ sharded: ShardedForward, kvCacheDType: DType = .f32) {
        precondition(sharded.communicator.rank > 0, "followers are ranks 1..<N")
        self.sharded = sharded
        self.kvCacheDType = kvCacheDType
    }

    /// Runs steps until the leader says `shutdown` (returns its reason), `isStopping` returns
    /// true between two messages (returns "stopped"; the leader's messages arrive at least every
    /// heartbeat), or the group fails (throws ``TensorParallelError``: `.peerLost` when the leader
    /// or another rank is gone, `.invalidMessage` for a frame it cannot run).
    public func run(isStopping: () -> Bool = { false }) throws -> String {
        let rank = sharded.communicator.rank
        defer { (sharded.communicator as? SocketCommunicator)?.close() }
        while !isStopping() {
            var frame: [UInt8] = []
            do {
                try sharded.communicator.broadcast(&frame, root: 0)
            } catch let error as CollectivesError {
                throw TensorParallelError.lost(error, rank: rank)
            }
            let message: RankMessage
            do {
                message = try RankMessage.decode(frame)
            } catch {
                throw TensorParallelError(.invalidMessage, "rank \(rank) received an invalid frame from the leader: \(error)")
            }
            switch message {
            case .step(let plan):
                let cache = try self.cache(for: plan)
                try check(plan)
                do {
                    _ = try sharded.run(plan.stepInputs, cache: cache)
                } catch let error as CollectivesError {
                    throw TensorParallelError.lost(error, rank: rank)
                }
                stepCount += 1
            case .heartbeat:
                continue
            case .shutdown(let reason):
                return reason
            case .hello:
                throw TensorParallelError(.invalidMessage, "rank \(rank) received a hello after the group formed")
            }
        }
        return "stopped"
    }

    /// The cache the plan refers to, (re)allocated when its geometry changes.
    private func cache(for plan: StepPlan) throws -> any KVCacheStorage {
        if let cache, cache.spec.pageCount == plan.pageCount, cache.spec.pageSize == plan.pageSize { return cache }
        let model = sharded.model
        let cache = try model.backend.makeKVCache(KVCacheSpec(
            config: model.config, shard: model.shard, pageSize: plan.pageSize, pageCount: plan.pageCount,
            dtype: kvCacheDType))
        Logger(label: "radixserve.rank").info(
            "rank \(sharded.communicator.rank): KV cache of \(plan.pageCount) pages × \(plan.pageSize) tokens in \(kvCacheDType), \(cache.byteCount >> 20) MiB; collectives through \(sharded.collectivesPath)")
        self.cache = cache
        return cache
    }

    /// Checks what ``WireProtocol/StepPlan/validate()`` cannot: limits of this rank's model.
    private func check(_ plan: StepPlan) throws {
        let model = sharded.model
        func fail(_ text: String) -> TensorParallelError { TensorParallelError(.invalidMessage, "step \(plan.sequence): \(text)") }
        guard plan.tokenIDs.count <= model.maxStepTokens else { throw fail("\(plan.tokenIDs.count) tokens exceed \(model.maxStepTokens)") }
        guard plan.logitRows.count <= model.maxLogitRows else { throw fail("\(plan.logitRows.count) logit rows exceed \(model.maxLogitRows)") }
        let vocabulary = Int32(model.config.vocabularySize)
        for token in plan.tokenIDs where token < 0 || token >= vocabulary {
            throw fail("token id \(token) outside the vocabulary of \(vocabulary)")
        }
    }
}

extension TensorParallelFollower {
    /// Joins the group of `configuration` (a rank ≥ 1) with the checkpoint in `directory` on
    /// `backend`, and runs the leader's steps until the leader says shutdown or `isStopping`
    /// returns true.
    /// - Throws: ``TensorParallelError`` naming this rank when the group cannot form or fails.
    public static func serve(
        _ configuration: TensorParallelConfiguration, directory: URL, backend: sending any ComputeBackend,
        isStopping: () -> Bool = { false }
    ) throws {
        do {
            let sharded = try TensorParallelBootstrap.join(configuration, directory: directory, backend: backend)
            _ = try TensorParallelFollower(sharded, kvCacheDType: configuration.kvCacheDType).run(isStopping: isStopping)
        } catch let error as TensorParallelError {
            throw TensorParallelError(error.code, "rank \(configuration.rank): \(error.message)")
        }
    }
}
