import ArgumentParser
import BackendCatalog
import Backends
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
    @OptionGroup var tls: TLSOptions
    @Option(help: "Worker processes to start.") var workers: Int = 2
    @Option(help: "Workers' compute backend: \(BackendCatalog.usage) (default: cpu).") var backend: String?
    @Option(help: "Tensor-parallel ranks per worker.") var tp: Int = 1
    @Option(help: "Compute threads per worker process (0: the cores divided among the workers).") var threads: Int = 0
    @Option(help: "KV cache memory per worker, e.g. 256M (default: the worker's default).") var kvMemory: String?
    @Option(name: .customLong("kv-dtype"), help: "Workers' KV cache element type: f32 or bf16 (default: the worker's default, f32).") var kvCacheDType: DType?
    @Option(help: "Workers' admission order: fcfs or lpm (default: the worker's default, fcfs).") var schedulePolicy: SchedulingPolicy?
    @Option(help: "Seconds to wait for every worker to register.") var startTimeout: Double = 120
    @Flag(help: "Workers run in deterministic mode (batch-invariant kernels; see worker --deterministic).") var deterministic = false
    @Option(help: "Workers' matmul weights: none or int8 (see worker --quantize).") var quantize: WeightQuantization?

    func validate() throws {
        if let problem = LocalCluster.flagsProblem(workers: workers, tp: tp, threads: threads, startTimeout: startTimeout, deterministic: deterministic) {
            throw ValidationError(problem)
        }
        do { _ = try backend.map { try BackendCatalog.device(named: $0) } } catch { throw ValidationError("--backend: \(error)") }
    }

    func run() async throws {
        let arguments = LocalCluster.workerArguments(
            model: routing.model, pageSize: routing.pageSize, hashSeed: routing.hashSeed, logLevel: logging.logLevel.rawValue,
            backend: backend, kvMemory: kvMemory, kvCacheDType: kvCacheDType?.description, schedulePolicy: schedulePolicy?.name,
            deterministic: deterministic, quantize: quantize?.description)
        let cluster = LocalCluster(
            workerCount: workers, tensorParallelSize: tp, threadsPerWorker: threads, workerArguments: arguments,
            startTimeout: .milliseconds(Int(startTimeout * 1000)))
        let (host, count) = (routing.host, workers)
        do {
            // The workers share this host's cores, so a cache miss is not free on an idle-looking one.
            try await cluster.run(
                host: host, port: routing.httpPort, tls: try tls.server(), access: try routing.access(), admission: routing.admission,
                makeLauncher: { try routing.launcher(workerEndpoint: $0, defaultRecomputeWeight: 2) },
                say: StandardOutput.write
            ) { launcher, port in
                StandardOutput.write(LocalCluster.readyMessage(
                    workers: count, model: launcher.model.id, host: host, port: port, dispatch: launcher.dispatchSummary, tls: tls.scheme == "https"))
            }
        } catch let error as RouterLaunchError {
            throw ValidationError(error.message)
        }
    }
}
