import BackendCatalog
import ArgumentParser
import Backends
import Engine
import Foundation
import Logging
import ProcessLogging

/// Tensor-parallel flags of `generate` and `worker`.
struct TensorParallelOptions: ParsableArguments {
    @Option(name: .customLong("tp"), help: "Tensor-parallel ranks; ranks 1..<N run as child processes unless --tp-endpoint is given.")
    var size: Int = 1

    @Option(help: "Endpoint rank 0 binds for ranks started by hand (e.g. tcp://0.0.0.0:5555); no children are spawned.")
    var tpEndpoint: String?

    @Option(help: "Where this rank binds its data sockets, e.g. tcp://10.0.0.1:* across hosts (default: the rendezvous' host).")
    var tpDataEndpoint: String?

    @Option(help: "Seconds a collective may wait for a peer before the group fails.")
    var tpTimeout: Double = 30

    @Flag(help: "Keep lm_head replicated on every rank instead of splitting it by vocabulary.")
    var tpReplicatedLMHead = false

    @Flag(help: "Print step and communication times of the tensor-parallel group to stderr (generate --prompt/--chat).")
    var tpStats = false

    func validate() throws {
        guard size >= 1 && size <= 64 else { throw ValidationError("--tp must be in 1...64, got \(size)") }
        guard tpTimeout.isFinite && tpTimeout > 0 else { throw ValidationError("--tp-timeout must be positive, got \(tpTimeout)") }
    }

    /// Whether `generate` should run as the leader of a group (also at `--tp 1` with stats, for baselines).
    var isEnabled: Bool { size > 1 || tpEndpoint != nil || tpStats }

    /// Compute threads per rank: the explicit value, or the cores shared evenly between the ranks.
    func threadsPerRank(requested: Int) -> Int {
        requested > 0 ? requested : max(1, ProcessInfo.processInfo.activeProcessorCount / size)
    }

    func configuration(rank: Int, rendezvous: String, maxStepTokens: Int = 2048, requirements: DeviceRequirements)
        -> TensorParallelConfiguration
    {
        TensorParallelConfiguration(
            rank: rank, size: size, rendezvous: rendezvous, dataEndpoint: tpDataEndpoint,
            timeout: .milliseconds(Int64(tpTimeout * 1000)), bootstrapTimeout: .milliseconds(Int64(max(tpTimeout, 10) * 1000)),
            isVocabParallel: !tpReplicatedLMHead, maxStepTokens: maxStepTokens,
            kvCacheDType: requirements.kvCacheDType ?? .f32, pageSize: requirements.pageSize)
    }

    /// Starts ranks 1..<N as `radixserve rank` children for a model run with `modelOptions` and
    /// the KV cache dtype of `engine`, or waits for hand-started ranks at `--tp-endpoint`.
    func startRanks(modelOptions: ModelOptions, engine: EngineOptions, handlesSignals: Bool) throws -> TensorParallelRanks {
        let threads = threadsPerRank(requested: modelOptions.threads)
        let parent = getpid()
        return try TensorParallelRanks(size: size, endpoint: tpEndpoint, handlesSignals: handlesSignals) { rank, rendezvous in
            ["rank", "--rank", "\(rank)", "--tp", "\(size)", "--leader", rendezvous, "--model", modelOptions.model,
             "--backend", modelOptions.backend, "--threads", "\(threads)", "--timeout", "\(tpTimeout)", "--parent-pid", "\(parent)",
             "--kv-dtype", engine.kvCacheDType.rawValue, "--log-level", ProcessLogging.level.rawValue]
                + (tpReplicatedLMHead ? ["--replicated-lm-head"] : [])
        }
    }

    /// Joins `ranks` as rank 0 on a fresh backend and returns the leader; the caller owns it.
    func joinAsLeader(_ ranks: TensorParallelRanks, modelOptions: ModelOptions, engine: EngineOptions, maxStepTokens: Int)
        throws -> sending TensorParallelLeader
    {
        let backend = try BackendCatalog.device(named: modelOptions.backend)
            .makeBackend(threads: threadsPerRank(requested: modelOptions.threads))
        let requirements = engine.deviceRequirements(pageSize: modelOptions.pageSize)
        return try ranks.joinAsLeader(
            configuration(rank: 0, rendezvous: ranks.rendezvous, maxStepTokens: maxStepTokens, requirements: requirements),
            directory: modelOptions.directory, backend: backend)
    }

    /// The model this process runs: rank 0 of the group of `ranks`, or with none a local model.
    func loadModel(_ ranks: TensorParallelRanks?, modelOptions: ModelOptions, engine: EngineOptions, maxStepTokens: Int)
        throws -> sending any ForwardModel
    {
        guard let ranks else {
            return try modelOptions.loadModel(
                maxStepTokens: maxStepTokens, requirements: engine.deviceRequirements(pageSize: modelOptions.pageSize))
        }
        return try joinAsLeader(ranks, modelOptions: modelOptions, engine: engine, maxStepTokens: maxStepTokens)
    }
}
