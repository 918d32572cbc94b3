import ArgumentParser
import Engine
import Foundation

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

    func configuration(rank: Int, rendezvous: String, maxStepTokens: Int = 2048) -> TensorParallelConfiguration {
        TensorParallelConfiguration(
            rank: rank, size: size, rendezvous: rendezvous, dataEndpoint: tpDataEndpoint,
            timeout: .milliseconds(Int64(tpTimeout * 1000)), bootstrapTimeout: .milliseconds(Int64(max(tpTimeout, 10) * 1000)),
            isVocabParallel: !tpReplicatedLMHead, maxStepTokens: maxStepTokens)
    }
}
