// Rank 0 of a tensor-parallel group: decides each step, broadcasts it, samples from full logits.

import Backends
import Collectives
import Models
import WireProtocol

/// The leader (rank 0) of a tensor-parallel group, usable wherever a ``ForwardModel`` is:
/// each ``forward(_:cache:)`` broadcasts the step plan to ranks 1..<N, runs rank 0's shard in
/// lock-step with them and returns the full logits.
///
/// Liveness: followers give up after their collective timeout without a message, so an idle
/// owner calls ``keepAlive()`` every ``keepAliveInterval`` (a quarter of that timeout), or
/// ``heartbeatIfIdle(interval:)`` with its own interval, from its wait loop.
/// Always end with ``shutdown(reason:)`` so followers exit at once instead of timing out.
/// Not thread-safe: engine thread only.
public final class TensorParallelLeader: ForwardModel {
    public let sharded: ShardedForward
    private var writer = WireWriter(capacity: 4096)
    private var sequence: UInt64 = 0
    private var lastMessage = ContinuousClock.now
    private var isShutDown = false
    /// Seconds spent inside ``forward(_:cache:)`` (all ranks' work as seen by rank 0).
    public private(set) var stepSeconds = 0.0
    /// Steps run.
    public private(set) var stepCount = 0

    public init(_ sharded: ShardedForward) {
        precondition(sharded.communicator.rank == 0, "the leader is rank 0")
        self.sharded = sharded
    }

    public var config: ModelConfig { sharded.model.config }
    public var shard: TensorParallelShard { sharded.model.shard }
    public var backend: any ComputeBackend { sharded.model.backend }
    public var maxStepTokens: Int { sharded.model.maxStepTokens }
    public var maxLogitRows: Int { sharded.model.maxLogitRows }
    /// Seconds inside collectives, including step broadcasts.
    public var communicationTimes: CommunicationTimes { sharded.times }

    public func forward(_ batch: StepInputs, cache: any KVCacheStorage) throws -> Tensor {
        let start = ContinuousClock.now
        defer {
            stepSeconds += (ContinuousClock.now - start).seconds
            stepCount += 1
        }
        sequence += 1
        try send(.step(StepPlan(sequence: sequence, batch: batch, cache: cache)))
        guard let logits = try mapErrors({ try sharded.run(batch, cache: cache) }) else {
            preconditionFailure("Invalid state: rank 0 always gets logits")
        }
        return logits
    }

    /// Sends a heartbeat when nothing was sent for `interval`, so followers can tell an idle
    /// leader from a dead one. Does nothing after ``shutdown(reason:)``.
    public func heartbeatIfIdle(interval: Duration) throws {
        guard !isShutDown, ContinuousClock.now - lastMessage >= interval else { return }
        try send(.heartbeat(sequence: sequence))
    }

    /// A quarter of the collectives timeout: followers then see several heartbeats per timeout.
    public var keepAliveInterval: Duration? { sharded.communicator.timeout / 4 }

    /// ``heartbeatIfIdle(interval:)`` at ``keepAliveInterval``.
    public func keepAlive() throws {
        try heartbeatIfIdle(interval: sharded.communicator.timeout / 4)
    }

    /// The collective failure that broke the group (as ``TensorParallelError``), or `nil`.
    public var failure: (any Error)? {
        sharded.communicator.failure.map { TensorParallelError.lost($0, rank: 0) }
    }

    /// Tells the followers to exit and closes the group. Idempotent; best effort when the group
    /// already failed (the followers then fail on their own).
    public func shutdown(reason: String) {
        guard !isShutDown else { return }
        isShutDown = true
        if sharded.communicator.failure == nil { try? send(.shutdown(reason: reason)) }
        (sharded.communicator as? SocketCommunicator)?.close()
    }

    private func send(_ message: RankMessage) throws {
        message.encode(into: &writer)
        let start = ContinuousClock.now
        try mapErrors { try sharded.communicator.broadcast(&writer.bytes, root: 0) }
        sharded.times.broadcast += (ContinuousClock.now - start).seconds
        lastMessage = .now
    }

    /// Turns collective failures into ``TensorParallelError/Code/peerLost`` with the peer named.
    private func mapErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as CollectivesError {
            throw TensorParallelError.lost(error, rank: 0)
        }
    }
}

extension TensorParallelError {
    /// A collective failed on `rank`: name the peer and the cause.
    static func lost(_ error: CollectivesError, rank: Int) -> TensorParallelError {
        let who = error.peer.map { "rank \($0)" } ?? "a peer"
        return TensorParallelError(.peerLost,
            "tensor-parallel group failed on rank \(rank): \(who) is gone or not responding (\(error.operation): \(error.message))")
    }
}
