// RadixServe: `radixserve up`, a router and its workers from one command.

import Foundation
import ProcessLifecycle
import RouterService

/// A local cluster: the router in this process and ``workerCount`` `radixserve worker` processes
/// of this executable on an `ipc://` endpoint in a fresh temporary directory, until SIGINT or
/// SIGTERM. The workers share this host's cores, so by default each gets an equal share, and they
/// leave at once when the router stops (`--drain-timeout 0`: nothing they still run has a client).
package struct LocalCluster: Sendable {
    /// Worker processes to start.
    package var workerCount: Int
    /// Tensor-parallel ranks per worker.
    package var tensorParallelSize: Int
    /// Compute threads per worker (0: this host's cores divided among workers and ranks).
    package var threadsPerWorker: Int
    /// Flags every worker gets besides its router endpoint, id, threads, parent and drain timeout
    /// (model, page size, hash seed, log level, KV memory…).
    package var workerArguments: [String]
    /// How long every worker may take to register.
    package var startTimeout: Duration

    package init(
        workerCount: Int, tensorParallelSize: Int, threadsPerWorker: Int, workerArguments: [String], startTimeout: Duration
    ) {
        self.workerCount = workerCount
        self.tensorParallelSize = tensorParallelSize
        self.threadsPerWorker = threadsPerWorker
        self.workerArguments = workerArguments
        self.startTimeout = startTimeout
    }

    /// The arguments of worker `index` (from 0) of a router at `endpoint`.
    package func arguments(ofWorker index: Int, endpoint: String, cores: Int) -> [String] {
        let threads = threadsPerWorker > 0 ? threadsPerWorker : max(1, cores / (workerCount * tensorParallelSize))
        return [
            "worker", "--router", endpoint, "--worker-id", "\(index + 1)", "--threads", "\(threads)",
            "--parent-pid", "\(getpid())", "--drain-timeout", "0",
        ] + (tensorParallelSize > 1 ? ["--tp", "\(tensorParallelSize)"] : []) + workerArguments
    }

    /// Starts the router from `makeLauncher(endpoint)` and the workers, waits for them to
    /// register, and serves HTTP on `host:port` until a signal stops the HTTP server, the router
    /// and then the workers. `say` receives the progress lines; `onListening` the bound port.
    /// `access` says which API keys may call what, `admission` how much each may use at once; with
    /// `tls` the server speaks HTTPS only.
    /// - Throws: ``RouterLaunchError`` when a worker exits or does not register in time.
    package func run(
        host: String, port: Int, tls: RouterTLS? = nil, access: APIAccess = .open, admission: AdmissionFlags = AdmissionFlags(),
        makeLauncher: (String) throws -> RouterLauncher, say: @escaping @Sendable (String) -> Void,
        onListening: @escaping @Sendable (RouterLauncher, Int) -> Void
    ) async throws {
        // A fresh directory only this user can enter: no other local user can reach the workers' socket.
        let socketDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "radixserve-up-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(
            at: socketDirectory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: socketDirectory) }
        let endpoint = "ipc://" + socketDirectory.appendingPathComponent("workers").path
        let launcher = try makeLauncher(endpoint)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // A worker that exits wakes the wait for registrations.
        let children = try ChildProcessGroup(
            indices: 0..<workerCount, killsOnSignal: false, label: "workers", exits: launcher.coordinator.membership
        ) { arguments(ofWorker: $0, endpoint: endpoint, cores: cores) }
        say("radixserve up: started \(workerCount) worker(s) (pids \(children.pids.map(String.init).joined(separator: ", "))); waiting for them to register…\n")
        do {
            try await launcher.waitForWorkers(workerCount, timeout: startTimeout, children: children)
        } catch {
            children.killAll(SIGTERM)
            children.finish(grace: .seconds(5))
            throw error
        }
        // Stopped last: the HTTP server drains, the router stops, then the workers.
        let stopWorkers = ChildProcessService(children, grace: .seconds(5)) { say("radixserve up: stopping workers\n") }
        try await launcher.serve(host: host, port: port, tls: tls, access: access, admission: admission, first: [stopWorkers]) {
            onListening(launcher, $0)
        }
    }
}

extension LocalCluster {
    /// The first problem with `up`'s own counts, named as the flag is spelled, or nil.
    package static func flagsProblem(workers: Int, tp: Int, threads: Int, startTimeout: Double, deterministic: Bool = false) -> String? {
        guard (1...64).contains(workers) else { return "--workers must be in 1...64, got \(workers)" }
        guard (1...16).contains(tp) else { return "--tp must be in 1...16, got \(tp)" }
        guard !deterministic || tp == 1 else { return "--deterministic runs workers on one rank; drop --tp \(tp)" }
        guard threads >= 0 else { return "--threads must be ≥ 0, got \(threads)" }
        guard startTimeout > 0 else { return "--start-timeout must be > 0" }
        return nil
    }

    /// The flags `up` passes to every worker: the router's model, page size and hash seed, the log
    /// level, and the worker options given to `up` (`nil`: the worker's default).
    package static func workerArguments(
        model: String, pageSize: Int, hashSeed: UInt64, logLevel: String, backend: String?, kvMemory: String?,
        kvCacheDType: String?, schedulePolicy: String?, deterministic: Bool = false, quantize: String? = nil
    ) -> [String] {
        var arguments = ["--model", model, "--page-size", "\(pageSize)", "--hash-seed", "\(hashSeed)", "--log-level", logLevel]
        if deterministic { arguments.append("--deterministic") }
        for (flag, value) in [
            ("--backend", backend), ("--kv-memory", kvMemory), ("--kv-dtype", kvCacheDType), ("--schedule-policy", schedulePolicy),
            ("--quantize", quantize),
        ] {
            if let value { arguments += [flag, value] }
        }
        return arguments
    }

    /// What `up` prints once its workers serve: where, and two ways to try it (with `tls`, over
    /// HTTPS, and how to trust a private CA).
    package static func readyMessage(
        workers: Int, model: String, host: String, port: Int, dispatch: String, tls: Bool = false
    ) -> String {
        let url = "\(tls ? "https" : "http")://\(host):\(port)"
        let trust = tls ? "       (certificate from a private CA: add --ca-file CA.pem to radixserve, --cacert CA.pem to curl)\n" : ""
        return """
            radixserve up: \(workers) worker(s) serving \(model) on \(url) (\(dispatch)) — Ctrl-C stops everything
              try: radixserve chat --url \(url) --message "Tell me a story."
                   curl \(url)/v1/chat/completions -H 'Content-Type: application/json' \\
                     -d '{"model": "\(model)", "messages": [{"role": "user", "content": "Hello!"}]}'
            \(trust)
            """
    }
}
