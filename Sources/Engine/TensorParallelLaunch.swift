// RadixServe: how a tensor-parallel leader forms its group.

import Backends
import Collectives
import Foundation
import Logging
import ProcessLogging

/// How a leader (`generate --tp N`, `worker --tp N`) forms its tensor-parallel group: spawns ranks
/// 1..<N of this executable (or waits for ranks started by hand at ``endpoint``) and joins as
/// rank 0.
public struct TensorParallelLaunch: Sendable {
    /// Ranks in the group.
    public var size: Int
    /// Where rank 0 binds for ranks started by hand; `nil` spawns them as children.
    public var endpoint: String?
    /// Where this rank binds its data sockets (default: the rendezvous' host).
    public var dataEndpoint: String?
    /// How long a collective may wait for a peer before the group fails.
    public var timeout: Duration
    /// Whether lm_head is split by vocabulary (else replicated on every rank).
    public var isVocabParallel: Bool
    /// What the engine needs of every rank's device: its KV cache dtype (passed to spawned ranks
    /// as `--kv-dtype`) and page size (checked by rank 0 before it loads its shard).
    public var requirements: DeviceRequirements
    /// Rank 0's CURVE key pair and the hand-started ranks it admits (``GroupCurve``); `nil` for
    /// plain traffic. Applies to ranks started by hand (``endpoint``); spawned ranks meet rank 0
    /// over `ipc://` in a fresh directory of this host.
    public var curve: GroupCurve?
    /// How every rank stores its matmul weights (passed to spawned ranks as `--quantize`).
    public var quantization: WeightQuantization

    public init(
        size: Int, endpoint: String?, dataEndpoint: String?, timeout: Duration, isVocabParallel: Bool,
        requirements: DeviceRequirements = DeviceRequirements(kvCacheDType: .f32), curve: GroupCurve? = nil,
        quantization: WeightQuantization = .none
    ) {
        self.size = size
        self.endpoint = endpoint
        self.dataEndpoint = dataEndpoint
        self.timeout = timeout
        self.isVocabParallel = isVocabParallel
        self.requirements = requirements
        self.curve = curve
        self.quantization = quantization
    }

    /// The KV cache dtype of every rank.
    public var kvCacheDType: DType { requirements.kvCacheDType ?? .f32 }

    /// The configuration of `rank`, meeting the others at `rendezvous`.
    public func configuration(rank: Int, rendezvous: String, maxStepTokens: Int = 2048) -> TensorParallelConfiguration {
        TensorParallelConfiguration(
            rank: rank, size: size, rendezvous: rendezvous, dataEndpoint: dataEndpoint, timeout: timeout,
            bootstrapTimeout: max(timeout, .seconds(10)), isVocabParallel: isVocabParallel, maxStepTokens: maxStepTokens,
            kvCacheDType: kvCacheDType, pageSize: requirements.pageSize, curve: rank == 0 ? curve : nil,
            quantization: quantization)
    }

    /// Starts ranks 1..<N as `radixserve rank` children running the checkpoint at `model` on the
    /// backend named `backend` with `threads` threads each (0: the cores shared between ranks), or
    /// waits for hand-started ranks at ``endpoint``. See ``TensorParallelRanks`` for `killsOnSignal`.
    public func startRanks(model: String, backend: String, threads: Int, killsOnSignal: Bool) throws -> TensorParallelRanks {
        let threads = TensorParallelRanks.threadsPerRank(requested: threads, size: size)
        let (parent, size, seconds) = (getpid(), size, timeout / .milliseconds(1) / 1000)
        let lmHead = isVocabParallel ? [] : ["--replicated-lm-head"]
        return try TensorParallelRanks(size: size, endpoint: endpoint, handlesSignals: killsOnSignal) { rank, rendezvous in
            ["rank", "--rank", "\(rank)", "--tp", "\(size)", "--leader", rendezvous, "--model", model, "--backend", backend,
             "--threads", "\(threads)", "--timeout", "\(seconds)", "--parent-pid", "\(parent)",
             "--kv-dtype", kvCacheDType.description, "--quantize", quantization.description,
             "--log-level", ProcessLogging.level.rawValue] + lmHead
        }
    }

    /// Joins `ranks` as rank 0 with the checkpoint in `directory` on a new backend of `device`
    /// (`threads` as for ``startRanks(model:backend:threads:killsOnSignal:)``); the caller owns
    /// the leader.
    public func joinAsLeader(
        _ ranks: TensorParallelRanks, directory: URL, device: any ComputeDevice, threads: Int, maxStepTokens: Int
    ) throws -> sending TensorParallelLeader {
        let backend = try device.makeBackend(threads: TensorParallelRanks.threadsPerRank(requested: threads, size: size))
        return try ranks.joinAsLeader(
            configuration(rank: 0, rendezvous: ranks.rendezvous, maxStepTokens: maxStepTokens), directory: directory,
            backend: backend)
    }
}
