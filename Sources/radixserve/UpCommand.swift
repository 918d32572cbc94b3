import ArgumentParser
import Foundation
import ProcessLifecycle
import Logging
import RouterHTTP
import RouterService

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

    @Option(help: "Tensor-parallel ranks per worker.")
    var tp: Int = 1

    @Option(help: "Compute threads per worker process (0: the cores divided among the workers).")
    var threads: Int = 0

    @Option(help: "KV cache memory per worker, e.g. 256M (default: the worker's default).")
    var kvMemory: String?

    @Option(name: .customLong("kv-dtype"), help: "Workers' KV cache element type: f32 or bf16 (default: the worker's default, f32).")
    var kvCacheDType: KVCacheDTypeName?

    @Option(help: "Workers' admission order: fcfs or lpm (default: the worker's default, fcfs).")
    var schedulePolicy: SchedulePolicyName?

    @Option(help: "Seconds to wait for every worker to register.")
    var startTimeout: Double = 120

    func validate() throws {
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be in 1...64, got \(workers)") }
        guard (1...16).contains(tp) else { throw ValidationError("--tp must be in 1...16, got \(tp)") }
        guard threads >= 0 else { throw ValidationError("--threads must be ≥ 0, got \(threads)") }
        guard startTimeout > 0 else { throw ValidationError("--start-timeout must be > 0") }
    }

    func run() async throws {
        let socketDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("radixserve-up-\(getpid())")
        try FileManager.default.createDirectory(at: socketDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: socketDirectory) }
        let endpoint = "ipc://" + socketDirectory.appendingPathComponent("workers").path
        // The workers share this host's cores, so a cache miss is not free on an idle-looking one.
        let launcher = try routing.launcher(workerEndpoint: endpoint, defaultRecomputeWeight: 2)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let perWorker = threads > 0 ? threads : max(1, cores / (workers * tp))
        // `up` shuts down gracefully on SIGINT/SIGTERM itself (the HTTP server drains first), and
        // a worker that exits wakes the wait for registrations.
        let group = try ChildProcessGroup(
            indices: 0..<workers, killsOnSignal: false, label: "workers", exits: launcher.coordinator.membership
        ) { index in
            var arguments = [
                "worker", "--router", endpoint, "--model", routing.model, "--worker-id", "\(index + 1)",
                "--page-size", "\(routing.pageSize)", "--hash-seed", "\(routing.hashSeed)", "--threads", "\(perWorker)",
                "--parent-pid", "\(getpid())",
                // The router stops first, so nothing a worker still runs has a client to finish for.
                "--drain-timeout", "0", "--log-level", logging.logLevel.rawValue,
            ]
            if tp > 1 { arguments += ["--tp", "\(tp)"] }
            if let kvMemory { arguments += ["--kv-memory", kvMemory] }
            if let kvCacheDType { arguments += ["--kv-dtype", kvCacheDType.rawValue] }
            if let schedulePolicy { arguments += ["--schedule-policy", schedulePolicy.rawValue] }
            return arguments
        }
        StandardOutput.write("radixserve up: started \(workers) worker(s) (pids \(group.pids.map(String.init).joined(separator: ", "))); waiting for them to register…\n")
        do {
            try await launcher.waitForWorkers(workers, timeout: .milliseconds(Int(startTimeout * 1000)), children: group)
        } catch let error as RouterLaunchError {
            group.killAll(SIGTERM)
            group.finish(grace: .seconds(5))
            throw ValidationError(error.message)
        }
        // Stopped last: the HTTP server drains, the router stops, then the workers.
        let stopWorkers = ChildProcessService(group, grace: .seconds(5)) {
            StandardOutput.write("radixserve up: stopping workers\n")
        }
        let host = routing.host
        let model = launcher.model.id
        let count = workers
        let dispatch = launcher.dispatchSummary
        try await launcher.serve(host: host, port: routing.httpPort, first: [stopWorkers]) { port in
            StandardOutput.write("""
                radixserve up: \(count) worker(s) serving \(model) on http://\(host):\(port) (\(dispatch)) — Ctrl-C stops everything
                  try: radixserve chat --url http://\(host):\(port) --message "Tell me a story."
                       curl http://\(host):\(port)/v1/chat/completions -H 'Content-Type: application/json' \\
                         -d '{"model": "\(model)", "messages": [{"role": "user", "content": "Hello!"}]}'

                """)
        }
    }
}
