import ArgumentParser
import Engine
import ProcessLifecycle
import Transport
import WorkerService

/// `radixserve worker`: one model replica serving a router. It loads the model (as rank 0 of a
/// tensor-parallel group with `--tp N`), runs the engine loop with KV cache events published,
/// registers with the router and serves it until SIGINT/SIGTERM (a graceful stop, exit 0: it takes
/// no new requests, finishes its running ones within `--drain-timeout`, and a second signal stops
/// it at once), until the router refuses it or never answers, or until the model fails (exit 1
/// with the reason).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Serve a model for a router: run its requests and publish KV cache events.")

    @OptionGroup var logging: LoggingOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var engine: EngineOptions
    @OptionGroup var tensorParallel: TensorParallelOptions
    @Option(help: "The router's worker endpoint to connect to (tcp://HOST:PORT or ipc://PATH).")
    var router: String?
    @Option(help: "Bind this endpoint instead and wait for a router to connect to it (tcp://HOST:PORT or ipc://PATH).")
    var listen: String?
    @Option(help: "This worker's id, in 1...\(UInt32.max) (default: random).")
    var workerID: UInt32?
    @Option(help: "Seed of the published page hashes; must equal the router's.")
    var hashSeed: UInt64 = 0
    /// Set by `radixserve up`: exit when that process is gone (even after a SIGKILL).
    @Option(help: .hidden) var parentPid: Int32?
    @Option(help: "Seconds to wait for the router to accept this worker (with --router; --listen waits indefinitely).")
    var registrationTimeout: Double = 30
    @Option(help: ArgumentHelp(
        "On SIGINT/SIGTERM, seconds to finish running requests before leaving (0: leave at once).",
        discussion: "The router routes nothing new here meanwhile, and moves whatever is unfinished to other workers when this one leaves. A second signal leaves at once."))
    var drainTimeout: Double = 30
    @Option(help: "Serve GET /metrics (Prometheus) and GET /health (200 while routable) over HTTP on this port (0: any free port; default: off).")
    var metricsPort: Int?
    @Option(help: "Address for --metrics-port.")
    var metricsHost: String = "127.0.0.1"
    @Option(help: "CURVE secret key file of this worker (`radixserve keygen`); needs --router-public-key.") var curveSecretKey: String?
    @Option(help: "The router's CURVE public key: a .pub file or the 40-character Z85 key.") var routerPublicKey: String?

    func validate() throws {
        if let problem = WorkerFlags.problem(
            router: router, listen: listen, workerID: workerID, registrationTimeout: registrationTimeout,
            drainTimeout: drainTimeout, metricsPort: metricsPort) { throw ValidationError(problem) }
        guard !tensorParallel.tpStats else { throw ValidationError("--tp-stats applies to generate only") }
        do { _ = try routerTransport() } catch { throw ValidationError(error.message) }
    }

    func routerTransport() throws(FlagProblem) -> (curve: (serverPublicKey: String, keyPair: CurveKeyPair)?, warning: String?) {
        try WorkerFlags.routerTransport(
            listen: listen, curveSecretKey: curveSecretKey, routerPublicKey: routerPublicKey, insecure: tensorParallel.insecureTransport)
    }

    func run() async throws {
        if let parentPid { ParentWatchdog.start(parent: parentPid, name: "worker \(workerID.map(String.init) ?? "")") }
        let config = try WorkerProcess.engineConfig(
            engine.engineConfig(pageSize: modelOptions.pageSize), hashSeed: hashSeed, directory: modelOptions.directory)
        let (curve, warning) = try routerTransport()
        if let warning { StandardOutput.writeError(warning + "\n") }
        let ranks = tensorParallel.size > 1 || tensorParallel.tpEndpoint != nil
            ? try tensorParallel.startRanks(modelOptions: modelOptions, engine: engine, handlesSignals: false) : nil
        defer { ranks?.finish() }
        let maxStepTokens = max(engine.maxBatchedTokens, 16)
        let model = try tensorParallel.loadModel(ranks, modelOptions: modelOptions, engine: engine, maxStepTokens: maxStepTokens)
        let service = WorkerProcess(
            engineConfig: config, endpointConfig: try WorkerEndpointConfig(
                router: router, listen: listen, workerID: workerID, modelDirectory: modelOptions.directory,
                tensorParallelSize: tensorParallel.size, registrationTimeoutSeconds: registrationTimeout, curve: curve),
            drainTimeout: .milliseconds(Int64(drainTimeout * 1000)), metricsAddress: metricsPort.map { (metricsHost, $0) })
        try await service.run(model: model)
    }
}
