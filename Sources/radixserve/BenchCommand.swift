import ArgumentParser
import BackendCatalog
import Backends
import Benchmarks
import Models
import Scheduling
import ServingClient

/// `radixserve bench`: prefill and batch-1 decode throughput of a model in this process
/// (`--workload single`), or engine-loop throughput (`offline`, `shared-prefix`); with `--url`, a
/// load test of a router (`shared-prefix`, `multi-turn`, `random`; ``ServingBenchmark``).
/// Run it from a release build; debug builds are 10–100× slower.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure prefill and decode tokens/s of a model (use a release build), or load-test a router with --url.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var engineOptions: EngineOptions
    @OptionGroup var server: ServerOptions
    @Option(name: .customLong("workload"), help: """
        single (prefill + batch-1 decode), offline (random prompts), structured (offline without and with JSON Schemas), shared-prefix, router-index \
        (the router's prefix index over --groups workers and a --shared-tokens prompt; no model), \
        matmul (the backend's matmuls on the 56M model's shapes for --rows, row-major against prepared weights), or \
        quantization (teacher-forced top-1 agreement and perplexity of --quantize, default int8, against the unquantized model). \
        With --url: shared-prefix (default), multi-turn or random.
        """)
    var workloadName: String?
    @Option(help: "Requests of the offline workload and of the --url random workload.") var requests: Int = 64
    @Option(name: .customLong("output-tokens"), help: "Tokens generated per request (offline, shared-prefix; default 128, 32 with --url).")
    var outputTokensValue: Int?
    @Option(name: .customLong("concurrency"), help: """
        Comma-separated running-request limits to measure (offline, shared-prefix; default 1,8,16,32); \
        with --url, one number of requests in flight (default 16).
        """)
    var concurrencyValue: String?
    @Option(name: .customLong("groups"), help: "Shared-prefix groups, or multi-turn conversations (default 16; 32 with --url).")
    var groupsValue: Int?
    @Option(help: "Requests per shared-prefix group.") var perGroup: Int = 8
    @Option(
        name: [.customLong("shared-tokens"), .customLong("system-tokens")],
        help: "Tokens of each group's shared prefix or conversation's system prompt (default 1024; 512 with --url).")
    var sharedTokensValue: Int?
    @Option(help: "Private tokens after the shared prefix, or new tokens of each multi-turn question.")
    var questionTokens: Int = 64
    @Option(help: "Prompt length for the prefill measurement, and of --url random prompts.") var promptTokens: Int = 512
    @Option(help: "Tokens decoded one at a time after the prompt.") var decodeTokens: Int = 128
    @Option(help: "Sample offline and shared-prefix outputs with temperature 1 from the K most likely tokens, 0 for all of them (default: greedy).")
    var topK: Int?
    @Option(help: "Measured repetitions; the median is reported.") var runs: Int = 3
    @Option(help: "Comma-separated row counts (tokens per step) of the matmul workload.") var rows: String = "1,8,16,32,128,512"
    @OptionGroup var served: ServedBenchOptions
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        if let problem = BenchWorkloadName.countsProblem(
            [promptTokens, decodeTokens, runs, requests, outputTokens, groups, perGroup, sharedTokens, questionTokens], topK: topK,
            concurrency: concurrencyLevels) { throw ValidationError(problem) }
        let problem = server.url == nil
            ? BenchWorkloadName.localFlagsProblem(workload, rows: rows)
            : BenchWorkloadName.servedFlagsProblem(
                workload, concurrency: concurrency, isModelGiven: modelOptions.isModelGiven,
                hasLocalEngineFlags: engineOptions.kvMemory != nil || engineOptions.noPrefixCache || engineOptions.schedulePolicy != .fcfs)
        if let problem { throw ValidationError(problem) }
        if server.url == nil && workload != "matmul" { try modelOptions.validateModelExists() }
    }

    // The flags whose defaults differ between local runs and `--url` (the router load test).
    var workload: String { workloadName ?? (server.url == nil ? "single" : "shared-prefix") }
    var outputTokens: Int { outputTokensValue ?? (server.url == nil ? 128 : 32) }
    var concurrency: String { concurrencyValue ?? (server.url == nil ? "1,8,16,32" : "16") }
    var groups: Int { groupsValue ?? (server.url == nil ? 16 : 32) }
    var sharedTokens: Int { sharedTokensValue ?? (server.url == nil ? 1024 : 512) }

    func run() throws {
        if server.url != nil { return try runServed() }
        switch workload {
        case "router-index":
            StandardOutput.write(benchmarkPrefixIndex(workerCount: groups, promptTokens: sharedTokens).description + "\n")
        case "matmul":
            let backend = try BackendCatalog.makeBackend(named: modelOptions.backend, threads: modelOptions.threads, quantization: modelOptions.quantize)
            StandardOutput.write(
                try MatMulBench(backend: backend, runs: max(runs, 5)).report(
                    rowCounts: MatMulBench.rowCounts(rows) ?? [], backendName: modelOptions.backend, json: json))
        case "quantization":
            let result = try QuantizationAccuracy.measure(directory: modelOptions.directory, scheme: modelOptions.quantize == .none ? .int8 : modelOptions.quantize) {
                try BackendCatalog.makeBackend(named: modelOptions.backend, threads: modelOptions.threads, quantization: $0) }
            StandardOutput.write(json ? try result.jsonLine() : result.summary)
        case "single":
            let model = try modelOptions.loadModel(
                maxStepTokens: max(promptTokens, 16), requirements: engineOptions.deviceRequirements(pageSize: modelOptions.pageSize))
            let result = try SingleRequestBench.measure(
                model: model, modelName: modelOptions.model, backendName: modelOptions.backend, pageSize: modelOptions.pageSize,
                kvCacheDType: engineOptions.kvCacheDType, usesDeviceSampling: !engineOptions.hostSampling,
                isDeterministic: engineOptions.deterministic, promptTokens: promptTokens, decodeTokens: decodeTokens, runs: runs)
            StandardOutput.write(json ? try result.jsonLine() : result.summary)
        default:
            try runEngineWorkload()
        }
    }

    var concurrencyLevels: [Int] { concurrency.split(separator: ",").compactMap { Int($0) } }

    /// Runs the offline or shared-prefix workload once per concurrency level.
    func runEngineWorkload() throws {
        let vocabulary = try ModelConfig.load(directory: modelOptions.directory).vocabularySize
        let workload = EngineBench.Workload(
            name: self.workload, requests: requests, promptTokens: promptTokens, groups: groups, perGroup: perGroup,
            sharedTokens: sharedTokens, questionTokens: questionTokens)
        let (modelOptions, maxStepTokens) = (modelOptions, engineOptions.maxBatchedTokens)
        let requirements = engineOptions.deviceRequirements(pageSize: modelOptions.pageSize)
        var bench = EngineBench(config: engineOptions.engineConfig(pageSize: modelOptions.pageSize)) {
            try modelOptions.loadModel(maxStepTokens: maxStepTokens, requirements: requirements) }
        bench.sampledTopK = topK
        bench.modelDirectory = modelOptions.directory
        try bench.measure(workload, vocabulary: vocabulary, outputTokens: outputTokens, concurrencyLevels: concurrencyLevels) {
            StandardOutput.write(json ? try $0.jsonLine() : $0.summary)
        }
    }

    /// `bench --url`: a load test of a router through `/v1/completions` (``ServingBenchmark``).
    func runServed() throws {
        let workload = BenchmarkWorkload(
            name: self.workload, groups: groups, perGroup: perGroup, turns: served.turns, systemTokens: sharedTokens,
            questionTokens: questionTokens, requests: requests, promptTokens: promptTokens)
        let configuration = ServingBenchmark.Configuration(
            workload: workload, model: served.modelName, outputTokens: outputTokens, concurrency: concurrencyLevels[0],
            warmUpRequests: served.warmupRequests, vocabulary: served.vocabulary!, flushesCache: served.flushCache)
        let report = try ServingBenchmark.run(router: try server.client(), configuration: configuration, seed: served.seed)
        StandardOutput.write(json ? try report.jsonLine() : report.summary)
        if report.completed == 0 { throw ExitCode.failure }
    }
}
