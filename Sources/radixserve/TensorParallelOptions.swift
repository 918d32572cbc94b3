import BackendCatalog
import ArgumentParser
import Backends
import Collectives
import Engine
import Transport

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
    @Option(help: "Rank 0's CURVE secret key file for hand-started ranks (needs --tp-authorized-keys); all-reduces take 1.6-5x as long (docs/BENCHMARKS.md).") var tpCurveSecretKey: String?
    @Option(help: "The ranks' CURVE public keys: a file of 'KEY [NAME]' lines or a directory of .pub files.") var tpAuthorizedKeys: String?
    @Flag(help: "Allow non-loopback TCP listeners (--listen, --tp-endpoint, --tp-data-endpoint) without CURVE.") var insecureTransport = false
    @Flag(help: "Print step and communication times of the tensor-parallel group to stderr (generate --prompt/--chat).")
    var tpStats = false

    func validate() throws {
        guard size >= 1 && size <= 64 else { throw ValidationError("--tp must be in 1...64, got \(size)") }
        guard tpTimeout.isFinite && tpTimeout > 0 else { throw ValidationError("--tp-timeout must be positive, got \(tpTimeout)") }
        do { _ = try transport() } catch { throw ValidationError(error.message) }
    }

    func transport() throws(CurveKeyError) -> (curve: GroupCurve?, warnings: [String]) {
        try TensorParallelTransport.leader(
            endpoint: tpEndpoint, dataEndpoint: tpDataEndpoint, curveSecretKey: tpCurveSecretKey,
            authorizedKeys: tpAuthorizedKeys, insecure: insecureTransport)
    }

    /// Whether `generate` should run as the leader of a group (also at `--tp 1` with stats, for baselines).
    var isEnabled: Bool { size > 1 || tpEndpoint != nil || tpStats }

    /// The flags as the engine's launch description, with the KV cache dtype and page size of
    /// `engine` and `modelOptions` (every rank holds its KV heads in that dtype).
    func launch(engine: EngineOptions, modelOptions: ModelOptions, warns: Bool = true) throws -> TensorParallelLaunch {
        let (curve, warnings) = try transport()
        for warning in warnings where warns { StandardOutput.writeError(warning + "\n") }
        return TensorParallelLaunch(
            size: size, endpoint: tpEndpoint, dataEndpoint: tpDataEndpoint, timeout: .milliseconds(Int64(tpTimeout * 1000)),
            isVocabParallel: !tpReplicatedLMHead, requirements: engine.deviceRequirements(pageSize: modelOptions.pageSize),
            curve: curve, quantization: modelOptions.quantize)
    }

    /// Starts ranks 1..<N for a model run with `modelOptions` and `engine` (see ``TensorParallelLaunch``).
    func startRanks(modelOptions: ModelOptions, engine: EngineOptions, handlesSignals: Bool) throws -> TensorParallelRanks {
        try launch(engine: engine, modelOptions: modelOptions).startRanks(
            model: modelOptions.model, backend: modelOptions.backend, threads: modelOptions.threads, killsOnSignal: handlesSignals)
    }

    /// Joins `ranks` as rank 0 on a fresh backend and returns the leader; the caller owns it.
    func joinAsLeader(_ ranks: TensorParallelRanks, modelOptions: ModelOptions, engine: EngineOptions, maxStepTokens: Int)
        throws -> sending TensorParallelLeader
    {
        try launch(engine: engine, modelOptions: modelOptions, warns: false).joinAsLeader(
            ranks, directory: modelOptions.directory, device: try BackendCatalog.device(named: modelOptions.backend),
            threads: modelOptions.threads, maxStepTokens: maxStepTokens)
    }

    /// The model this process runs: rank 0 of the group of `ranks`, or with none a local model.
    func loadModel(_ ranks: TensorParallelRanks?, modelOptions: ModelOptions, engine: EngineOptions, maxStepTokens: Int)
        throws -> sending any ForwardModel
    {
        let requirements = engine.deviceRequirements(pageSize: modelOptions.pageSize)
        guard let ranks else { return try modelOptions.loadModel(maxStepTokens: maxStepTokens, requirements: requirements) }
        return try joinAsLeader(ranks, modelOptions: modelOptions, engine: engine, maxStepTokens: maxStepTokens)
    }
}
