import Foundation
import ServingClient
import TestSupport

/// A router and workers as real child processes of the test, on an `ipc://` worker endpoint and
/// an HTTP port chosen by the router. Everything is killed when the cluster is deinitialised.
final class LocalCluster: @unchecked Sendable {
    // @unchecked: `workers` is only mutated by the test's thread.
    let router: ManagedProcess
    private(set) var workers: [UInt32: ManagedProcess] = [:]
    let client: RouterClient
    let url: String
    let workerEndpoint: String
    let model: URL
    let pageSize: Int
    private let directory: URL

    /// Starts the router and `workerCount` workers and waits until all are routable.
    init(model: URL = Fixtures.demoModel, workerCount: Int, pageSize: Int = 16, routerArguments: [String] = []) throws {
        directory = try Fixtures.temporaryDirectory()
        workerEndpoint = "ipc://" + directory.appendingPathComponent("workers").path
        self.model = model
        self.pageSize = pageSize
        router = try ManagedProcess(arguments: [
            "router", "--model", model.path, "--http-port", "0", "--worker-endpoint", workerEndpoint, "--page-size", "\(pageSize)",
            "--heartbeat-ms", "100", "--missed-heartbeats", "5", "--router-seed", "7",
        ] + routerArguments)
        guard let line = router.waitForOutputLine(containing: "serving", timeout: 60),
            let range = line.range(of: #"http://[0-9.]+:[0-9]+"#, options: .regularExpression)
        else {
            throw ClusterError("the router did not start: \(router.standardError)")
        }
        url = String(line[range])
        client = RouterClient(url: try ServingURL(url), readTimeout: .seconds(300))
        for id in 1...UInt32(workerCount) { try startWorker(id) }
        try waitForRoutableWorkers(workerCount)
    }

    deinit {
        router.kill()
        for worker in workers.values { worker.kill() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts one worker process with `id`.
    func startWorker(_ id: UInt32, extra: [String] = []) throws {
        workers[id] = try ManagedProcess(arguments: [
            "worker", "--router", workerEndpoint, "--model", model.path, "--worker-id", "\(id)", "--page-size", "\(pageSize)",
            "--threads", "1", "--kv-memory", "64M",
        ] + extra)
    }

    /// Waits until `/workers` lists `count` routable workers.
    func waitForRoutableWorkers(_ count: Int, timeout: Double = 120) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let list = try? client.workers(), list.filter { $0.isRoutable == true }.count == count { return }
            for (id, worker) in workers where !worker.isRunning {
                throw ClusterError("worker \(id) exited with status \(worker.status): \(worker.standardError)")
            }
            usleep(50_000)
        }
        throw ClusterError("\(count) workers did not become routable within \(timeout) s; router said: \(router.standardError)")
    }
}

/// A failure to bring the cluster up, with what the processes said.
struct ClusterError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A `radixserve` child process whose output is collected as it arrives.
final class ManagedProcess: @unchecked Sendable {
    // @unchecked: the buffers are guarded by `condition`; `process` is thread-safe for these uses.
    let process = Process()
    private let condition = NSCondition()
    private var output = ""
    private var error = ""

    init(arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = ProcessHarness.executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let outputPipe = Pipe()
        let errorPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        process.standardInput = FileHandle.nullDevice
        outputPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in self?.append(handle.availableData, error: false) }
        errorPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in self?.append(handle.availableData, error: true) }
        try process.run()
    }

    deinit { kill() }

    private func append(_ data: Data, error isError: Bool) {
        guard !data.isEmpty else { return }
        condition.lock()
        if isError { error += String(decoding: data, as: UTF8.self) } else { output += String(decoding: data, as: UTF8.self) }
        condition.broadcast()
        condition.unlock()
    }

    var standardOutput: String { condition.withLock { output } }
    var standardError: String { condition.withLock { error } }
    var isRunning: Bool { process.isRunning }
    var status: Int32 { process.isRunning ? -1 : process.terminationStatus }
    var pid: Int32 { process.processIdentifier }

    /// Waits for a stdout line containing `text`; returns it, or nil on timeout or exit.
    func waitForOutputLine(containing text: String, timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let line = output.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
            guard process.isRunning, condition.wait(until: min(deadline, Date().addingTimeInterval(0.1))) || Date() < deadline else {
                return nil
            }
        }
    }

    /// Sends `signal` (default SIGKILL) if running, and reaps the process.
    func kill(_ signal: Int32 = SIGKILL) {
        if process.isRunning { Foundation.kill(process.processIdentifier, signal) }
        if signal == SIGKILL { process.waitUntilExit() }
    }

    /// Waits up to `timeout` for the process to exit; returns whether it did.
    func waitForExit(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        return !process.isRunning
    }
}
