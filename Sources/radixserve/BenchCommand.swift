import ArgumentParser
import Backends
import Engine
import Foundation
import Models
import RadixTree
import RouterCore
import Scheduling
import ServingTypes
import Synchronization

/// `radixserve bench`: prefill and batch-1 decode throughput of a model in this process
/// (`--workload single`), or engine-loop throughput (`offline`, `shared-prefix`); with `--url`, a
/// load test of a router (`shared-prefix`, `multi-turn`, `random`; see `BenchCommand+Server.swift`).
/// Run it from a release build; debug builds are 10–100× slower.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure prefill and decode tokens/s of a model (use a release build), or load-test a router with --url.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var engineOptions: EngineOptions
    @OptionGroup var server: ServerOptions

    @Option(name: .customLong("workload"), help: """
        single (prefill + batch-1 decode), offline (random prompts), shared-prefix, router-index \
        (the router's prefix index over --groups workers and a --shared-tokens prompt; no model), or \
        matmul (the backend's matmuls on the 56M model's shapes for --rows, row-major against prepared weights). \
        With --url: shared-prefix (default), multi-turn or random.
        """)
    var workloadName: String?

    @Option(help: "Requests of the offline workload and of the --url random workload.")
    var requests: Int = 64

    @Option(
        name: .customLong("output-tokens"),
        help: "Tokens generated per request (offline, shared-prefix; default 128, 32 with --url).")
    var outputTokensValue: Int?

    @Option(name: .customLong("concurrency"), help: """
        Comma-separated running-request limits to measure (offline, shared-prefix; default 1,8,16,32); \
        with --url, one number of requests in flight (default 16).
        """)
    var concurrencyValue: String?

    @Option(
        name: .customLong("groups"), help: "Shared-prefix groups, or multi-turn conversations (default 16; 32 with --url).")
    var groupsValue: Int?

    @Option(help: "Requests per shared-prefix group.")
    var perGroup: Int = 8

    @Option(
        name: [.customLong("shared-tokens"), .customLong("system-tokens")],
        help: "Tokens of each group's shared prefix or conversation's system prompt (default 1024; 512 with --url).")
    var sharedTokensValue: Int?

    @Option(help: "Private tokens after the shared prefix, or new tokens of each multi-turn question.")
    var questionTokens: Int = 64

    @Option(help: "Prompt length for the prefill measurement, and of --url random prompts.")
    var promptTokens: Int = 512

    @Option(help: "Tokens decoded one at a time after the prompt.")
    var decodeTokens: Int = 128

    @Option(help: "Measured repetitions; the median is reported.")
    var runs: Int = 3

    @Option(help: "Comma-separated row counts (tokens per step) of the matmul workload.")
    var rows: String = "1,8,16,32,128,512"

    @OptionGroup var served: ServedBenchOptions

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard promptTokens >= 1, decodeTokens >= 1, runs >= 1, requests >= 1, outputTokens >= 1, groups >= 1,
            perGroup >= 1, sharedTokens >= 1, questionTokens >= 1
        else { throw ValidationError("token and request counts must be ≥ 1") }
        guard !concurrencyLevels.isEmpty, concurrencyLevels.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--concurrency must be a comma-separated list of positive integers")
        }
        if server.url != nil { return try validateServed() }
        guard ["single", "offline", "shared-prefix", "router-index", "matmul"].contains(workload) else {
            throw ValidationError(
                "--workload must be single, offline, shared-prefix, router-index or matmul (multi-turn and random need --url), "
                    + "got '\(workload)'")
        }
        if workload == "matmul" {
            guard !rowCounts.isEmpty, rowCounts.allSatisfy({ (1...4096).contains($0) }) else {
                throw ValidationError("--rows must be a comma-separated list of integers in 1...4096, got '\(rows)'")
            }
            return
        }
        try modelOptions.validateModelExists()
    }

    // The flags whose defaults differ between local runs and `--url` (the router load test).
    var workload: String { workloadName ?? (server.url == nil ? "single" : "shared-prefix") }
    var outputTokens: Int { outputTokensValue ?? (server.url == nil ? 128 : 32) }
    var concurrency: String { concurrencyValue ?? (server.url == nil ? "1,8,16,32" : "16") }
    var groups: Int { groupsValue ?? (server.url == nil ? 16 : 32) }
    var sharedTokens: Int { sharedTokensValue ?? (server.url == nil ? 1024 : 512) }

    func run() throws {
        if server.url != nil { return try runServed() }
        if workload == "router-index" {
            // The router's prefix index and dispatch decision, no model involved.
            StandardOutput.write(benchmarkPrefixIndex(workerCount: groups, promptTokens: sharedTokens).description + "\n")
            return
        }
        if workload == "matmul" { return try runMatMul() }
        if workload != "single" { return try runEngineWorkload() }
        let model = try modelOptions.loadModel(maxStepTokens: max(promptTokens, 16))
        let context = promptTokens + decodeTokens + 1
        guard context <= model.config.maxPositionEmbeddings else {
            throw ValidationError("prompt + decode tokens (\(context)) exceed the model's context of \(model.config.maxPositionEmbeddings)")
        }
        let threads = model.backend.threadCount
        let weightDType = model.weights.layers[0].qkv.dtype.description
        let vocabulary = UInt64(model.config.vocabularySize)
        // One request at a time over a pool of exactly one context, never hitting the prefix
        // cache (every run prefills the same prompt), prefill in one chunk.
        let config = EngineConfig(
            pageSize: modelOptions.pageSize, kvMemory: .pages((context + modelOptions.pageSize - 1) / modelOptions.pageSize),
            maxBatchedTokens: max(promptTokens, 16), maxRunningRequests: 1, isPrefixCacheEnabled: false)
        let probe = TokenProbe()
        let engine = try EngineLoop(model: model, config: config, sink: probe.receive)
        defer { engine.shutdown() }
        var random = SeededRandom(seed: 42)
        let prompt = (0..<promptTokens).map { _ in Int32(random.next() % vocabulary) }
        let prefillOnly = SamplingParams(maxTokens: 1, temperature: 0, ignoreEOS: true)
        let decode = SamplingParams(maxTokens: decodeTokens + 1, temperature: 0, ignoreEOS: true)
        _ = try probe.run(prompt, params: decode, on: engine)  // warm-up: grows every scratch buffer

        var prefillRates: [Double] = []
        var decodeRates: [Double] = []
        var allocationsPerStep: Double?
        for _ in 0..<runs {
            let start = ContinuousClock.now
            _ = try probe.run(prompt, params: prefillOnly, on: engine)
            prefillRates.append(Double(promptTokens) / (ContinuousClock.now - start).seconds)

            let tokens = try probe.run(prompt, params: decode, on: engine)
            decodeRates.append(Double(decodeTokens) / (tokens.lastTime - tokens.firstTime).seconds)
            // Between the first and the last token events: exactly `decodeTokens` decode steps.
            if let start = tokens.firstAllocations, let end = tokens.lastAllocations {
                allocationsPerStep = Double(end - start) / Double(decodeTokens)
            }
        }
        let result = BenchResult(
            model: modelOptions.model, backend: modelOptions.backend, threads: threads,
            weightDType: weightDType, promptTokens: promptTokens,
            decodeTokens: decodeTokens, prefillTokensPerSecond: prefillRates.median,
            decodeTokensPerSecond: decodeRates.median, decodeAllocationsPerStep: allocationsPerStep)
        StandardOutput.write(json ? try result.jsonLine() : result.summary)
    }
}

/// The engine sink of the single-request workload: notes when the first and last tokens of the
/// running request arrived, and the allocation count then, on the engine thread as each token is
/// emitted. Allocation-free itself, so it adds nothing to the count.
final class TokenProbe: Sendable {
    struct Tokens {
        var firstTime = ContinuousClock.now
        var lastTime = ContinuousClock.now
        var firstAllocations: Int?
        var lastAllocations: Int?
        var count = 0
        var error: String?
    }

    private let state = Mutex(Tokens())
    private let finished = DispatchSemaphore(value: 0)
    private let nextID = Mutex<UInt64>(0)

    /// The engine's sink.
    func receive(_ event: EngineEvent) {
        switch event {
        case .token:
            let allocations = AllocationCounter.current()
            let now = ContinuousClock.now
            state.withLock { tokens in
                if tokens.count == 0 {
                    tokens.firstTime = now
                    tokens.firstAllocations = allocations
                } else {
                    tokens.lastTime = now
                    tokens.lastAllocations = allocations
                }
                tokens.count += 1
            }
        case .finished(_, let reason, _):
            state.withLock { $0.error = reason.errorMessage }
            finished.signal()
        }
    }

    /// Runs one request on `engine` (whose sink is ``receive(_:)``) and returns its token times.
    func run(_ prompt: [Int32], params: SamplingParams, on engine: EngineLoop) throws -> Tokens {
        state.withLock { $0 = Tokens() }
        let id = nextID.withLock { id in
            id += 1
            return id
        }
        try engine.submit(EngineRequest(id: RequestID(id), promptTokenIDs: prompt, params: params))
        finished.wait()
        let tokens = state.withLock { $0 }
        if let error = tokens.error { throw EngineError("the benchmark request failed: \(error)") }
        return tokens
    }
}

struct BenchResult: Encodable {
    var model: String
    var backend: String
    var threads: Int
    var weightDType: String
    var promptTokens: Int
    var decodeTokens: Int
    var prefillTokensPerSecond: Double
    var decodeTokensPerSecond: Double
    /// Heap allocations per decode step after warm-up (only with the counter library preloaded).
    var decodeAllocationsPerStep: Double?

    var summary: String {
        """
        model \(model) (\(weightDType) weights), backend \(backend), threads \(threads)
        prefill \(promptTokens) tokens: \(String(format: "%.0f", prefillTokensPerSecond)) tok/s
        decode batch 1, \(decodeTokens) tokens: \(String(format: "%.1f", decodeTokensPerSecond)) tok/s
        \(decodeAllocationsPerStep.map { String(format: "heap allocations per decode step: %.2f\n", $0) } ?? "")
        """
    }

}

extension Array where Element == Double {
    var median: Double { sorted()[count / 2] }
}
