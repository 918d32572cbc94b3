import RouterHTTP
import Testing

/// `up`'s flag checks, before anything starts.
@Suite struct LocalClusterFlagsTests {
    @Test func deterministicWorkersRunOneRankAndSayWhy() {
        #expect(LocalCluster.flagsProblem(workers: 2, tp: 1, threads: 0, startTimeout: 10, deterministic: true) == nil)
        let problem = LocalCluster.flagsProblem(workers: 2, tp: 2, threads: 0, startTimeout: 10, deterministic: true)
        #expect(problem == "--deterministic runs workers on one rank; drop --tp 2")
        #expect(LocalCluster.flagsProblem(workers: 2, tp: 2, threads: 0, startTimeout: 10) == nil)
    }

    @Test func deterministicIsPassedToEveryWorker() {
        let arguments = LocalCluster.workerArguments(
            model: "m", pageSize: 16, hashSeed: 0, logLevel: "info", backend: nil, kvMemory: nil, kvCacheDType: nil,
            schedulePolicy: nil, deterministic: true)
        #expect(arguments.contains("--deterministic"))
        #expect(!LocalCluster.workerArguments(
            model: "m", pageSize: 16, hashSeed: 0, logLevel: "info", backend: nil, kvMemory: nil, kvCacheDType: nil,
            schedulePolicy: nil).contains("--deterministic"))
    }

    @Test func quantizeIsPassedToEveryWorkerWhenGiven() {
        let arguments = LocalCluster.workerArguments(
            model: "m", pageSize: 16, hashSeed: 0, logLevel: "info", backend: nil, kvMemory: nil, kvCacheDType: nil,
            schedulePolicy: nil, quantize: "int8")
        #expect(arguments.suffix(2) == ["--quantize", "int8"])
        #expect(!LocalCluster.workerArguments(
            model: "m", pageSize: 16, hashSeed: 0, logLevel: "info", backend: nil, kvMemory: nil, kvCacheDType: nil,
            schedulePolicy: nil).contains("--quantize"))
    }
}
