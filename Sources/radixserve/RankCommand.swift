import BackendCatalog
import Collectives
import Transport
import ArgumentParser
import Backends
import Engine
import Logging
import ProcessLifecycle

/// `radixserve rank`: one follower (rank ≥ 1) of a tensor-parallel group. It joins the leader's
/// rendezvous, checks protocol, model and group size, then runs the leader's steps until it
/// says shutdown or SIGINT/SIGTERM stops the rank between two steps; it exits with an error when
/// the leader or another rank is gone.
struct RankCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rank",
        abstract: "Run one tensor-parallel rank (1..<N) of a group led by `generate --tp N`.")

    @OptionGroup var logging: LoggingOptions
    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "This rank, in 1..<tp.")
    var rank: Int
    @Option(help: "Ranks in the group.")
    var tp: Int
    @Option(help: "The leader's rendezvous endpoint (ipc://PATH or tcp://HOST:PORT).")
    var leader: String
    @Option(help: "Where to bind this rank's data sockets, e.g. tcp://10.0.0.2:* across hosts.")
    var dataEndpoint: String?
    @Option(help: "Seconds to wait for the leader or a peer before failing.")
    var timeout: Double = 30
    @Flag(help: "Keep lm_head replicated (must match the leader's --tp-replicated-lm-head).")
    var replicatedLMHead = false
    @Option(name: .customLong("kv-dtype"), help: "This rank's KV cache element type (should match the leader's --kv-dtype).")
    var kvCacheDType: DType = .f32
    @Option(help: "This rank's CURVE secret key file; needs --leader-public-key.") var curveSecretKey: String?
    @Option(help: "Rank 0's CURVE public key: a .pub file or the 40-character Z85 key.") var leaderPublicKey: String?
    @Flag(help: "Allow a non-loopback --data-endpoint without CURVE.") var insecureTransport = false
    @Option(help: .hidden)
    var parentPid: Int32?
    @Option(help: .hidden)
    var wireVersion: UInt16?

    func validate() throws {
        try modelOptions.validateModelExists()
        if let problem = TensorParallelConfiguration.followerProblem(rank: rank, size: tp, timeout: timeout) { throw ValidationError(problem) }
        do { _ = try transport() } catch { throw ValidationError(error.message) }
    }

    func transport() throws(CurveKeyError) -> (curve: GroupCurve?, warnings: [String]) {
        try TensorParallelTransport.follower(
            dataEndpoint: dataEndpoint, curveSecretKey: curveSecretKey, leaderPublicKey: leaderPublicKey, insecure: insecureTransport)
    }

    func run() async throws {
        if let parentPid { ParentWatchdog.start(parent: parentPid, rank: rank) }
        let (curve, warnings) = try transport()
        for warning in warnings { StandardOutput.writeError(warning + "\n") }
        let backend = try BackendCatalog.device(named: modelOptions.backend).makeBackend(threads: modelOptions.threads)
        let configuration = TensorParallelConfiguration.follower(
            rank: rank, size: tp, leader: leader, dataEndpoint: dataEndpoint, timeout: timeout, isVocabParallel: !replicatedLMHead,
            kvCacheDType: kvCacheDType, curve: curve, helloVersion: wireVersion, quantization: modelOptions.quantize)
        let logger = Logger(label: "radixserve.rank")
        try await ProcessServices.run(
            [TensorParallelRankService(configuration, directory: modelOptions.directory, backend: backend)],
            signals: ShutdownSignals(logger: logger), logger: logger)
    }
}
