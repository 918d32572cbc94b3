import ArgumentParser
import Foundation
import RouterHTTP
import RouterService

/// `radixserve up`: a local cluster in one command — the router in this process, workers as
/// child processes — until Ctrl-C.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start a local router and workers on one model (the bundled demo model by default); Ctrl-C stops all."
    )

    @OptionGroup var routing: RouterOptions

    @Option(help: "Worker processes to start.")
    var workers: Int = 2

    @Option(help: "Tensor-parallel ranks per worker.")
    var tp: Int = 1

    @Option(help: "Compute threads per worker process (0: the cores divided among the workers).")
    var threads: Int = 0

    @Option(help: "KV cache memory per worker, e.g. 256M (default: the worker's default).")
    var kvMemory: String?

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
        let launcher = try routing.launcher(workerEndpoint: endpoint)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let perWorker = threads > 0 ? threads : max(1, cores / (workers * tp))
        let group = try WorkerProcessGroup(count: workers) { index in
            var arguments = [
                "worker", "--router", endpoint, "--model", routing.model, "--worker-id", "\(index + 1)",
                "--page-size", "\(routing.pageSize)", "--hash-seed", "\(routing.hashSeed)", "--threads", "\(perWorker)",
                "--parent-pid", "\(getpid())",
            ]
            if tp > 1 { arguments += ["--tp", "\(tp)"] }
            if let kvMemory { arguments += ["--kv-memory", kvMemory] }
            return arguments
        }
        defer { group.stop() }
        StandardOutput.write("radixserve up: started \(workers) worker(s) (pids \(group.pids.map(String.init).joined(separator: ", "))); waiting for them to register…\n")
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(startTimeout * 1000)))
        while launcher.coordinator.routableWorkerCount < workers {
            if let exited = group.firstExited() {
                throw ValidationError("worker \(exited.index + 1) exited with status \(exited.status) before registering (see its messages above)")
            }
            guard ContinuousClock.now < deadline else {
                throw ValidationError("only \(launcher.coordinator.routableWorkerCount) of \(workers) workers registered within \(startTimeout) s")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let host = routing.host
        let model = launcher.model.id
        let count = workers
        try await launcher.serve(host: host, port: routing.httpPort) { port in
            StandardOutput.write("""
                radixserve up: \(count) worker(s) serving \(model) on http://\(host):\(port) — Ctrl-C stops everything
                  try: radixserve chat --url http://\(host):\(port) --message "Tell me a story."
                       curl http://\(host):\(port)/v1/chat/completions -H 'Content-Type: application/json' \\
                         -d '{"model": "\(model)", "messages": [{"role": "user", "content": "Hello!"}]}'

                """)
        }
        StandardOutput.write("radixserve up: stopping workers\n")
    }
}

/// Worker processes started by `up`; stopped (SIGTERM, then SIGKILL) when the group stops.
/// Each child also watches this process (`--parent-pid`) and exits if it disappears.
final class WorkerProcessGroup: Sendable {
    private let processes: [Process]
    let pids: [Int32]

    init(count: Int, arguments: (Int) -> [String]) throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var started: [Process] = []
        for index in 0..<count {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments(index)
            process.standardInput = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                for child in started { kill(child.processIdentifier, SIGKILL) }
                throw error
            }
            started.append(process)
        }
        processes = started
        pids = started.map(\.processIdentifier)
    }

    /// The first child that already exited, with its status.
    func firstExited() -> (index: Int, status: Int32)? {
        for (index, process) in processes.enumerated() where !process.isRunning {
            return (index, process.terminationStatus)
        }
        return nil
    }

    /// Asks every child to stop, waits up to `grace`, then kills the rest.
    func stop(grace: Duration = .seconds(5)) {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = ContinuousClock.now.advanced(by: grace)
        while processes.contains(where: \.isRunning), ContinuousClock.now < deadline { usleep(20_000) }
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in processes { process.waitUntilExit() }
    }
}
