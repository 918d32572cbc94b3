import Foundation
import ServingClient
import ServingTypes
import TestSupport

/// A router and workers as real child processes of the test, on an `ipc://` worker endpoint and
/// an HTTP port chosen by the router. Everything is killed when the cluster is deinitialised.
final class LocalCluster: @unchecked Sendable {
    // @unchecked: `router`, `client`, `url` and `workers` are only mutated by the test's thread.
    private(set) var router: ChildProcess
    private(set) var workers: [UInt32: ChildProcess] = [:]
    private(set) var client: RouterClient
    private(set) var url: String
    let workerEndpoint: String
    let model: URL
    let pageSize: Int
    private let routerArguments: [String]
    private let apiKey: String?
    private let directory: URL

    /// Starts the router and `workerCount` workers and waits until all are routable.
    /// `apiKey` is sent by ``client`` (give the admin key when the router has keys: the cluster
    /// waits on `/workers`).
    init(
        model: URL = Fixtures.demoModel, workerCount: Int, pageSize: Int = 16, routerArguments: [String] = [],
        workerArguments: [String] = [], apiKey: String? = nil
    ) throws {
        directory = try Fixtures.temporaryDirectory()
        workerEndpoint = "ipc://" + directory.appendingPathComponent("workers").path
        self.model = model
        self.pageSize = pageSize
        self.routerArguments = routerArguments
        self.apiKey = apiKey
        (router, url, client) = try Self.startRouter(
            model: model, workerEndpoint: workerEndpoint, pageSize: pageSize, arguments: routerArguments, apiKey: apiKey)
        for id in 1...UInt32(workerCount) { try startWorker(id, extra: workerArguments) }
        try waitForRoutableWorkers(workerCount)
    }

    private static func startRouter(
        model: URL, workerEndpoint: String, pageSize: Int, arguments: [String], apiKey: String? = nil
    ) throws -> (ChildProcess, String, RouterClient) {
        let router = try ChildProcess([
            "router", "--model", model.path, "--http-port", "0", "--worker-endpoint", workerEndpoint, "--page-size", "\(pageSize)",
            "--heartbeat-ms", "100", "--missed-heartbeats", "5", "--router-seed", "7",
        ] + arguments)
        guard let line = router.outputLine(containing: "serving", timeout: 60),
            let range = line.range(of: #"http://[0-9.]+:[0-9]+"#, options: .regularExpression)
        else {
            throw ClusterError("the router did not start: \(router.standardError)")
        }
        let url = String(line[range])
        return (router, url, RouterClient(url: try ServingURL(url), readTimeout: .seconds(300), apiKey: apiKey))
    }

    /// Kills the router with SIGKILL and starts a new one on the same worker endpoint (and a new
    /// HTTP port); the workers keep running.
    func restartRouter() throws {
        router.signal(SIGKILL)
        _ = router.finish(timeout: 10)
        (router, url, client) = try Self.startRouter(
            model: model, workerEndpoint: workerEndpoint, pageSize: pageSize, arguments: routerArguments, apiKey: apiKey)
    }

    deinit {
        router.signal(SIGKILL)
        for worker in workers.values { worker.signal(SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts one worker process with `id`.
    func startWorker(_ id: UInt32, extra: [String] = []) throws {
        workers[id] = try ChildProcess([
            "worker", "--router", workerEndpoint, "--model", model.path, "--worker-id", "\(id)", "--page-size", "\(pageSize)",
            "--threads", "1", "--kv-memory", "64M",
        ] + extra)
    }

    /// Waits until `/workers` lists `count` routable workers.
    func waitForRoutableWorkers(_ count: Int, timeout: Double = 120) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let list = try? client.workers(), list.filter(\.isRoutable).count == count { return }
            for (id, worker) in workers where !worker.process.isRunning {
                throw ClusterError("worker \(id) exited with status \(worker.process.terminationStatus): \(worker.standardError)")
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
