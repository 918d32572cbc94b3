import ArgumentParser
import BackendCatalog
import Backends
import Foundation
import Logging
import RouterHTTP
import Scheduling

/// `radixserve up`: a local cluster in one command — the router in this process, workers as
/// child processes — until Ctrl-C.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start a local router and workers on one model (the bundled demo model by default); Ctrl-C stops all."
    )

    @OptionGroup var logging: LoggingOptions
    @OptionGroup var routing: RouterOptions
    @Option(help: "Worker processes to start.")
    var workers: Int = 2
    @Option(help: "Workers' compute backend: \(BackendCatalog.usage) (default: cpu).")
    var backend: String?
    @Option(help: "Tensor-parallel ranks per worker.")
    var tp: Int = 1
    @Option(help: "Compute threads per worker process (0: the cores divided among the workers).")
    var threads: Int = 0
    @Option(help: "KV cache memory per worker, e.g. 256M (default: the worker's default).")
    var kvMemory: String?
    @Option(name: .customLong("kv-dtype"), help: "Workers' KV cache element type: f32 or bf16 (default: the worker's default, f32).")
    var kvCacheDType: DType?
    @Option(help: "Workers' admission order: fcfs or lpm (default: the worker's default, fcfs).")
    var schedulePolicy: SchedulingPolicy?
    @Option(help: "Seconds to wait for every worker to register.")
    var startTimeout: Double = 120

    func validate() throws {
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be in 1...64, got \(workers)") }
        guard (1...16).contains(tp) else { throw ValidationError("--tp must be in 1...16, got \(tp)") }
        guard threads >= 0 else { throw ValidationError("--threads must be ≥ 0, got \(threads)") }
        guard startTimeout > 0 else { throw ValidationError("--start-timeout must be > 0") }
        do { _ = try backend.map { try BackendCatalog.device(named: $0) } } catch { throw ValidationError("--backend: \(error)") }
    }

    func run() async throws {
        var arguments = [
            "--model", routing.model, "--page-size", "\(routing.pageSize)", "--hash-seed", "\(routing.hashSeed)",
            "--log-level", logging.logLevel.rawValue,
        ]
        if let backend { arguments += ["--backend", backend] }
        if let kvMemory { arguments += ["--kv-memory", kvMemory] }
        if let kvCacheDType { arguments += ["--kv-dtype", kvCacheDType.description] }
        if let schedulePolicy { arguments += ["--schedule-policy", schedulePolicy.name] }
        let cluster = LocalCluster(
            workerCount: workers, tensorParallelSize: tp, threadsPerWorker: threads, workerArguments: arguments,
            startTimeout: .milliseconds(Int(startTimeout * 1000)))
        let (host, count) = (routing.host, workers)
        do {
            // The workers share this host's cores, so a cache miss is not free on an idle-looking one.
            try await cluster.run(
                host: host, port: routing.httpPort, access: try routing.access(),
                makeLauncher: { try routing.launcher(workerEndpoint: $0, defaultRecomputeWeight: 2) },
                say: StandardOutput.write
            ) { launcher, port in
                let model = launcher.model.id
                StandardOutput.write("""
                    radixserve up: \(count) worker(s) serving \(model) on http://\(host):\(port) (\(launcher.dispatchSummary)) — Ctrl-C stops everything
                      try: radixserve chat --url http://\(host):\(port) --message "Tell me a story."
                           curl http://\(host):\(port)/v1/chat/completions -H 'Content-Type: application/json' \\
                             -d '{"model": "\(model)", "messages": [{"role": "user", "content": "Hello!"}]}'

                    """)
            }
        } catch let error as RouterLaunchError {
            throw ValidationError(error.message)
        }
    }
}
