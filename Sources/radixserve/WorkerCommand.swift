import ArgumentParser
import Engine
import Foundation
import Models
import Tokenizers
import WorkerService

/// `radixserve worker`: one model replica serving a router. It loads the model (as rank 0 of a
/// tensor-parallel group with `--tp N`), runs the engine loop with KV cache events published,
/// registers with the router and serves it until SIGINT/SIGTERM (a graceful stop, exit 0: it takes
/// no new requests, finishes its running ones within `--drain-timeout`, and a second signal stops
/// it at once), until the router refuses it or never answers, or until the model fails (exit 1
/// with the reason).
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Serve a model for a router: run its requests and publish KV cache events.")

    @OptionGroup var logging: LoggingOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var engine: EngineOptions
    @OptionGroup var tensorParallel: TensorParallelOptions

    @Option(help: "The router's worker endpoint to connect to (tcp://HOST:PORT or ipc://PATH).")
    var router: String?

    @Option(help: "Bind this endpoint instead and wait for a router to connect to it (tcp://HOST:PORT or ipc://PATH).")
    var listen: String?

    @Option(help: "This worker's id, in 1...\(UInt32.max) (default: random).")
    var workerID: UInt32?

    @Option(help: "Seed of the published page hashes; must equal the router's.")
    var hashSeed: UInt64 = 0

    /// Set by `radixserve up`: exit when that process is gone (even after a SIGKILL).
    @Option(help: .hidden) var parentPid: Int32?

    @Option(help: "Seconds to wait for the router to accept this worker (with --router; --listen waits indefinitely).")
    var registrationTimeout: Double = 30

    @Option(help: ArgumentHelp(
        "On SIGINT/SIGTERM, seconds to finish running requests before leaving (0: leave at once).",
        discussion: "The router routes nothing new here meanwhile, and moves whatever is unfinished to other workers when this one leaves. A second signal leaves at once."))
    var drainTimeout: Double = 30

    func validate() throws {
        guard (router == nil) != (listen == nil) else {
            throw ValidationError("give exactly one of --router ENDPOINT (connect to a router) or --listen ENDPOINT (wait for one)")
        }
        if let router { try Self.checkEndpoint(router, flag: "--router", allowsWildcardPort: false) }
        if let listen { try Self.checkEndpoint(listen, flag: "--listen", allowsWildcardPort: true) }
        if workerID == 0 { throw ValidationError("--worker-id must be in 1...\(UInt32.max), got 0") }
        guard registrationTimeout.isFinite && registrationTimeout > 0 else {
            throw ValidationError("--registration-timeout must be positive, got \(registrationTimeout)")
        }
        guard drainTimeout.isFinite && drainTimeout >= 0 && drainTimeout <= 86_400 else {
            throw ValidationError("--drain-timeout must be in 0...86400 seconds, got \(drainTimeout)")
        }
        guard !tensorParallel.tpStats else { throw ValidationError("--tp-stats applies to generate only") }
    }

    /// Accepts `ipc://PATH` and `tcp://HOST:PORT` (port 1...65535, or `*` where binding may pick one).
    static func checkEndpoint(_ endpoint: String, flag: String, allowsWildcardPort: Bool) throws {
        if endpoint.hasPrefix("ipc://") && endpoint.count > "ipc://".count { return }
        if endpoint.hasPrefix("tcp://") {
            let address = endpoint.dropFirst("tcp://".count)
            if let colon = address.lastIndex(of: ":"), colon != address.startIndex {
                let port = address[address.index(after: colon)...]
                if (allowsWildcardPort && port == "*") || Int(port).map({ (1...65535).contains($0) }) == true { return }
            }
        }
        throw ValidationError("\(flag) '\(endpoint)' is not an endpoint like tcp://HOST:PORT or ipc://PATH")
    }

    func run() throws {
        if let parentPid { ParentWatchdog.start(parent: parentPid, name: "worker \(workerID.map(String.init) ?? "")") }
        var config = engine.engineConfig(pageSize: modelOptions.pageSize)
        config.isPublishingKVEvents = true
        config.hashSeed = hashSeed
        config.extraEOSTokenIDs = try tokenizerEOSTokenIDs()
        let fingerprint = try ModelFingerprint.compute(
            directory: modelOptions.directory, checkpoint: Checkpoint(directory: modelOptions.directory))
        let ranks = tensorParallel.size > 1 || tensorParallel.tpEndpoint != nil
            ? try TensorParallelRanks(options: tensorParallel, modelOptions: modelOptions, handlesSignals: false) : nil
        defer { ranks?.finish() }
        let maxStepTokens = max(engine.maxBatchedTokens, 16)
        let model: any ForwardModel
        if let ranks {
            model = try ranks.joinAsLeader(modelOptions: modelOptions, maxStepTokens: maxStepTokens)
        } else {
            model = try modelOptions.loadModel(maxStepTokens: maxStepTokens)
        }
        let outbox = WorkerOutbox()
        let loop = try EngineLoop(model: model, config: config, sink: outbox.sink, cacheEventSink: outbox.cacheEventSink)
        try serve(loop, outbox: outbox, endpointConfig: endpointConfig(fingerprint: fingerprint))
    }

    /// The endpoint configuration; the model id announced is the model directory's name.
    func endpointConfig(fingerprint: String) -> WorkerEndpointConfig {
        WorkerEndpointConfig(
            routerEndpoint: router ?? listen!, connection: router == nil ? .bind : .connect,
            workerID: workerID ?? .random(in: 1...(.max)), modelID: modelOptions.directory.standardized.lastPathComponent,
            modelFingerprint: fingerprint, tensorParallelSize: tensorParallel.size,
            registrationTimeout: .milliseconds(Int64(registrationTimeout * 1000)))
    }

    /// End-of-sequence ids of the tokenizer beside the checkpoint, if there is one (the router
    /// tokenizes; the worker only needs to know where generation ends).
    private func tokenizerEOSTokenIDs() throws -> Set<Int32> {
        let file = modelOptions.directory.appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: file.path) else { return [] }
        return Set(try AutoTokenizer.load(directory: modelOptions.directory).eosTokenIDs.map(Int32.init))
    }
}
