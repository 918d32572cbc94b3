import ArgumentParser
import Foundation
import Models
import RouterCore
import RouterHTTP
import RouterService

/// `radixserve router`: the HTTP front end and cache-aware dispatcher; workers connect to it.
struct RouterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router",
        abstract: "Run the router: OpenAI-compatible HTTP API, global prefix index, dispatch to workers over ZeroMQ."
    )

    @OptionGroup var logging: LoggingOptions
    @OptionGroup var routing: RouterOptions
    @OptionGroup var tls: TLSOptions
    @Option(help: "Where workers connect (ZeroMQ endpoint). Default: tcp://127.0.0.1:<worker-port>.")
    var workerEndpoint: String?
    @Option(help: "TCP port for workers (used when --worker-endpoint is not given).")
    var workerPort: Int = 5557
    @Option(help: "CURVE secret key file of the router (`radixserve keygen`); needs --authorized-keys.") var curveSecretKey: String?
    @Option(help: "Worker public keys admitted: a file of 'KEY [NAME]' lines or a directory of .pub files.") var authorizedKeys: String?
    @Flag(help: "Allow a non-loopback --worker-endpoint without CURVE (traffic in the clear).") var insecureTransport = false

    func validate() throws { do { _ = try transport() } catch { throw ValidationError(error.message) } }

    func transport() throws(RouterLaunchError) -> (endpoint: String, curve: RouterCurve?, warning: String?) {
        try RouterFlags.workerTransport(
            endpoint: workerEndpoint, port: workerPort, curveSecretKey: curveSecretKey, authorizedKeys: authorizedKeys,
            insecure: insecureTransport)
    }

    func run() async throws {
        let (endpoint, curve, warning) = try transport()
        if let warning { StandardOutput.writeError(warning + "\n") }
        let launcher = try routing.launcher(workerEndpoint: endpoint, curve: curve)
        let workers = launcher.coordinator.boundWorkerEndpoint + (curve.map { " (CURVE, router public key \($0.publicKey))" } ?? "")
        let host = routing.host
        try await launcher.serve(
            host: host, port: routing.httpPort, tls: try tls.server(), access: try routing.access(), admission: routing.admission
        ) { port in
            StandardOutput.write(
                "radixserve router: serving \(launcher.model.id) on \(tls.scheme)://\(host):\(port) (\(launcher.dispatchSummary)); "
                    + "workers connect to \(workers)\n")
        }
    }
}

/// Flags shared by `router` and `up`.
struct RouterOptions: ParsableArguments {
    @Option(help: """
        Checkpoint directory (tokenizer, chat template, config; the router loads no weights). \
        Default: $RADIXSERVE_MODEL, else the bundled demo model (models/demo).
        """)
    var model: String = BundledModel.defaultPath
    @Option(help: "HTTP address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "HTTP port (0: any free port, printed at start).") var httpPort: Int = 8000
    @Option(help: "Dispatch policy: \(DispatchPolicy.allCases.map(\.rawValue).joined(separator: ", ")).")
    var policy: String = DispatchPolicy.cacheAware.rawValue
    @Option(help: ArgumentHelp(
        "cache-aware: extra weight of uncached prompt tokens (default: 0 for router, 2 for up).",
        discussion: "0 predicts this request's time to first token only, right when each worker has its own accelerator. Above 0 a miss also pays for the prefill it adds to the cluster: with W, a request leaves the worker holding its prefix only when that worker's prefill queue is longer than another's by about (1 + W) times the prefix. Right when workers share a host's cores, as the workers of `up` do."))
    var recomputeWeight: Double?
    @Option(help: "Tokens per KV page (workers must use the same).") var pageSize: Int = 16
    @Option(help: "Seed of the page-hash chains (workers must use the same).") var hashSeed: UInt64 = 0
    @Option(help: "Heartbeat interval asked of workers, in milliseconds.") var heartbeatMs: Int = 250
    @Option(help: "Missed heartbeats before a worker is unroutable and its requests move.") var missedHeartbeats: Int = 4
    @Option(help: "Dispatch attempts per request (first included) when workers fail.") var maxAttempts: Int = 3
    @Option(help: "Seed of the dispatcher's random choices (default: random).") var routerSeed: UInt64?

    @Option(help: "API key clients send as 'Authorization: Bearer KEY' (repeatable; also $RADIXSERVE_API_KEY).") var apiKey: [String] = []
    @Option(help: "File of API keys, one 'KEY' or 'NAME KEY [max_concurrent_requests=N] [tokens_per_minute=N]' per line.")
    var apiKeyFile: [String] = []
    @Option(help: "Key for /workers and /flush_cache, where ordinary keys are refused.") var adminApiKey: String?
    @Option(help: "Key for /metrics (open without it).") var metricsApiKey: String?
    @Option(help: "Requests served at once; more wait in a queue, highest 'priority' first.") var maxRunningRequests = 4096
    @Option(help: "Requests that may wait for a slot; more get 429.") var maxQueuedRequests = 1024
    @Option(help: "Seconds a request may wait for a slot before it gets 429.") var maxQueueWait = 60.0
    @Option(help: "Requests each API key may have running or queued (default: unlimited).") var keyMaxConcurrentRequests: Int?
    @Option(help: "Tokens (prompt + max_tokens) each API key may use per minute (default: unlimited).") var keyTokensPerMinute: Int?

    func validate() throws {
        if let problem = RouterFlags.problem(
            recomputeWeight: recomputeWeight, httpPort: httpPort, policy: policy, pageSize: pageSize, heartbeatMs: heartbeatMs,
            missedHeartbeats: missedHeartbeats, maxAttempts: maxAttempts) ?? admission.problem ?? BundledModel.problem(model: model)
        { throw ValidationError(problem) }
        do { _ = try access() } catch { throw ValidationError("\(error)") }
    }

    var admission: AdmissionFlags {
        AdmissionFlags(
            maxRunningRequests: maxRunningRequests, maxQueuedRequests: maxQueuedRequests, maxQueueWait: maxQueueWait,
            keyMaxConcurrentRequests: keyMaxConcurrentRequests, keyTokensPerMinute: keyTokensPerMinute)
    }

    /// Who may call which endpoint (docs: README, "Security").
    func access() throws(APIKeyError) -> APIAccess {
        try APIAccess.load(
            userKeys: apiKey, keyFiles: apiKeyFile, adminKeys: adminApiKey.map { [$0] } ?? [],
            metricsKeys: metricsApiKey.map { [$0] } ?? [])
    }

    /// A router for `workerEndpoint`; `defaultRecomputeWeight` applies unless `--recompute-weight` was given.
    func launcher(workerEndpoint: String, defaultRecomputeWeight: Double = 0, curve: RouterCurve? = nil) throws -> RouterLauncher {
        try RouterLauncher(
            modelDirectory: URL(fileURLWithPath: model), workerEndpoint: workerEndpoint, pageSize: pageSize, hashSeed: hashSeed,
            policy: DispatchPolicy(rawValue: policy)!, recomputeWeight: recomputeWeight ?? defaultRecomputeWeight,
            heartbeat: .milliseconds(heartbeatMs), missedHeartbeats: missedHeartbeats, maxAttempts: maxAttempts, seed: routerSeed,
            curve: curve)
    }
}
