// Forming a tensor-parallel group: connect, exchange hellos, load the shard.

import Backends
import Collectives
import Foundation
import Models
import WireProtocol

/// How one rank joins its tensor-parallel group.
public struct TensorParallelConfiguration: Sendable {
    /// This rank.
    public var rank: Int
    /// Ranks in the group.
    public var size: Int
    /// Rank 0 binds this ZeroMQ endpoint, the others connect (`ipc://…` or `tcp://host:port`).
    public var rendezvous: String
    /// Where this rank binds its data sockets (`nil`: the communicator's default for the rendezvous).
    public var dataEndpoint: String?
    /// Per-collective timeout; a silent peer (or an idle leader without heartbeats) fails after it.
    public var timeout: Duration
    /// Budget for connecting and exchanging hellos (model loading is not included).
    public var bootstrapTimeout: Duration
    /// Split lm_head by vocabulary and all-gather logits (otherwise every rank holds all of it).
    public var isVocabParallel: Bool
    /// Step limits; ranks > 0 adopt rank 0's values from its hello.
    public var maxStepTokens: Int
    public var maxLogitRows: Int
    /// Element type of this rank's KV cache (`--kv-dtype`; every rank should use the leader's).
    public var kvCacheDType: DType
    /// Tokens per KV page, when known at start (the leader's `--page-size`; followers take the
    /// page size of the leader's steps). Checked against the device before the shard loads.
    public var pageSize: Int?
    /// CURVE keys of the group's sockets (``GroupCurve``); `nil` for plain traffic.
    public var curve: GroupCurve?
    /// Version written in this rank's hello. Only tests change it, to exercise the refusal.
    public var helloVersion: UInt16 = WireFrameHeader.currentVersion
    /// How every rank stores its matmul weights (`--quantize`); part of the model identity the
    /// ranks compare, so a group whose ranks quantize differently is refused.
    public var quantization = WeightQuantization.none

    public init(
        rank: Int, size: Int, rendezvous: String, dataEndpoint: String? = nil, timeout: Duration = .seconds(30),
        bootstrapTimeout: Duration = .seconds(60), isVocabParallel: Bool = true, maxStepTokens: Int = 2048,
        maxLogitRows: Int = 256, kvCacheDType: DType = .f32, pageSize: Int? = nil, curve: GroupCurve? = nil,
        quantization: WeightQuantization = .none
    ) {
        self.rank = rank
        self.size = size
        self.rendezvous = rendezvous
        self.dataEndpoint = dataEndpoint
        self.timeout = timeout
        self.bootstrapTimeout = bootstrapTimeout
        self.isVocabParallel = isVocabParallel
        self.maxStepTokens = maxStepTokens
        self.maxLogitRows = maxLogitRows
        self.kvCacheDType = kvCacheDType
        self.pageSize = pageSize
        self.curve = curve
        self.quantization = quantization
    }

    /// What this rank needs of its device besides the checkpoint's weights: its KV cache dtype
    /// and, when known, page size.
    public var deviceRequirements: DeviceRequirements {
        DeviceRequirements(kvCacheDType: kvCacheDType, pageSize: pageSize)
    }
}

extension TensorParallelConfiguration {
    /// `radixserve rank`'s configuration: rank `rank` of `size` meeting rank 0 at `leader`, with
    /// `timeout` seconds per collective (at least 10 for forming the group).
    public static func follower(
        rank: Int, size: Int, leader: String, dataEndpoint: String?, timeout: Double, isVocabParallel: Bool,
        kvCacheDType: DType, curve: GroupCurve?, helloVersion: UInt16?, quantization: WeightQuantization = .none
    ) -> TensorParallelConfiguration {
        var configuration = TensorParallelConfiguration(
            rank: rank, size: size, rendezvous: leader, dataEndpoint: dataEndpoint,
            timeout: .milliseconds(Int64(timeout * 1000)), bootstrapTimeout: .milliseconds(Int64(max(timeout, 10) * 1000)),
            isVocabParallel: isVocabParallel, kvCacheDType: kvCacheDType, curve: curve)
        configuration.helloVersion = helloVersion ?? WireFrameHeader.currentVersion
        configuration.quantization = quantization
        return configuration
    }

    /// The first problem with `rank`'s `--rank`, `--tp` and `--timeout`, or nil.
    public static func followerProblem(rank: Int, size: Int, timeout: Double) -> String? {
        guard size >= 2, (1..<size).contains(rank) else { return "--rank must be in 1..<--tp (\(size)), got \(rank)" }
        guard timeout.isFinite && timeout > 0 else { return "--timeout must be positive" }
        return nil
    }
}

/// Group formation shared by the leader and the other ranks.
public enum TensorParallelBootstrap {
    /// Fingerprint of the collectives group itself; model agreement is checked by the hellos.
    static let groupFingerprint = "radixserve tensor-parallel group"

    /// Connects rank `configuration.rank`, checks that every rank speaks the same wire protocol,
    /// loaded the same checkpoint and expects the same group size, then loads this rank's shard
    /// (after checking the device against the checkpoint and ``TensorParallelConfiguration/deviceRequirements``).
    /// Blocks; call on the thread that will run the steps.
    /// - Throws: ``TensorParallelError`` (`.mismatch` names both ranks' values) or the model's errors.
    public static func join(
        _ configuration: TensorParallelConfiguration, directory: URL, backend: any ComputeBackend
    ) throws -> ShardedForward {
        // Refuse a device that cannot hold this rank's KV cache before connecting to anyone.
        try backend.device.check(configuration.deviceRequirements)
        let config = try ModelConfig.load(directory: directory)
        let checkpoint = try Checkpoint(directory: directory)
        try backend.enableWeightQuantization(configuration.quantization)
        var fingerprint = try ModelFingerprint.compute(directory: directory, checkpoint: checkpoint)
        if configuration.quantization != .none { fingerprint += " with \(configuration.quantization) weights" }
        let communicator: SocketCommunicator
        do {
            communicator = try SocketCommunicator.connect(
                rank: configuration.rank, worldSize: configuration.size, rendezvous: configuration.rendezvous,
                fingerprint: groupFingerprint, timeout: configuration.timeout,
                bootstrapTimeout: configuration.bootstrapTimeout, dataEndpoint: configuration.dataEndpoint,
                curve: configuration.curve)
        } catch let error as CollectivesError {
            throw TensorParallelError(.mismatch, "rank \(configuration.rank) could not join the group at \(configuration.rendezvous): \(error.message)")
        }
        let own = RankHello(
            rank: configuration.rank, tensorParallelSize: configuration.size, modelFingerprint: fingerprint,
            modelName: directory.path, maxStepTokens: configuration.maxStepTokens,
            maxLogitRows: configuration.maxLogitRows)
        let leader = try exchangeHellos(own, version: configuration.helloVersion, communicator: communicator)
        let shard = TensorParallelShard(rank: configuration.rank, size: configuration.size)
        let model = try LlamaModel(
            config: config, checkpoint: checkpoint, backend: backend, shard: shard,
            maxStepTokens: leader.maxStepTokens, maxLogitRows: leader.maxLogitRows,
            isVocabParallel: configuration.isVocabParallel && configuration.size > 1,
            requirements: configuration.deviceRequirements)
        return try ShardedForward(model: model, communicator: communicator)
    }

    /// Every rank broadcasts its hello in turn (root 0, 1, …) and checks all of them against
    /// rank 0's, so every rank fails with the same message on a mismatch. Returns rank 0's hello.
    static func exchangeHellos(_ own: RankHello, version: UInt16, communicator: any Communicator) throws -> RankHello {
        var writer = WireWriter()
        RankMessage.hello(own).encode(into: &writer)
        var frame = writer.bytes
        withUnsafeBytes(of: version.littleEndian) { frame[4] = $0[0]; frame[5] = $0[1] }
        var frames: [[UInt8]] = []
        for root in 0..<communicator.worldSize {
            var bytes = root == communicator.rank ? frame : []
            do {
                try communicator.broadcast(&bytes, root: root)
            } catch let error as CollectivesError {
                throw TensorParallelError(.peerLost, "hello exchange failed: \(error.message)")
            }
            frames.append(bytes)
        }
        var hellos: [RankHello] = []
        for (rank, frame) in frames.enumerated() {
            let version = frame.count >= 6 ? UInt16(frame[4]) | UInt16(frame[5]) << 8 : 0
            guard version == WireFrameHeader.currentVersion else {
                throw TensorParallelError(.mismatch,
                    "rank \(rank) speaks wire protocol v\(version) but this build (rank \(communicator.rank)) speaks v\(WireFrameHeader.currentVersion); run the same radixserve version on every rank")
            }
            guard case .hello(let hello) = try RankMessage.decode(frame), hello.rank == rank else {
                throw TensorParallelError(.invalidMessage, "rank \(rank) sent an invalid hello")
            }
            hellos.append(hello)
        }
        let leader = hellos[0]
        for hello in hellos.dropFirst() {
            guard hello.tensorParallelSize == leader.tensorParallelSize else {
                throw TensorParallelError(.mismatch,
                    "rank \(hello.rank) was started with --tp \(hello.tensorParallelSize) but rank 0 with --tp \(leader.tensorParallelSize)")
            }
            guard hello.modelFingerprint == leader.modelFingerprint else {
                throw TensorParallelError(.mismatch,
                    "rank \(hello.rank) loaded a different model than rank 0: '\(hello.modelName)' (fingerprint \(hello.modelFingerprint)) vs '\(leader.modelName)' (fingerprint \(leader.modelFingerprint))")
            }
        }
        return leader
    }
}
