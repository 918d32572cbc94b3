import ArgumentParser
import Backends
import Engine
import Scheduling

/// KV pool and batching flags shared by commands that run the engine loop.
struct EngineOptions: ParsableArguments {
    @Option(help: "KV cache memory: bytes with an optional K/M/G/T suffix (e.g. 512M, 2G), or a fraction below 1 of available RAM, or of device memory for a device with its own (e.g. 0.3).")
    var kvMemory: String?
    @Option(help: "KV cache memory as a fraction of available RAM (device memory for a device with its own), in (0, 0.9]; ignored with --kv-memory.")
    var kvFraction: Double = 0.3
    @Option(name: .customLong("kv-dtype"), help: "KV cache element type: f32, bf16 or f16 (half the memory per page); the device must list it (cpu: f32, bf16).")
    var kvCacheDType: DType = .f32
    @Option(help: "Largest number of requests running at once.")
    var maxRunningRequests: Int = 64
    @Option(help: "Token budget of one prefill step (longer prompts are prefilled in chunks).")
    var maxBatchedTokens: Int = 2048
    @Flag(help: "Do not share cached prefixes between requests.")
    var noPrefixCache = false
    @Option(help: "Admission order of waiting requests: fcfs (arrival), or lpm (longest cached prefix first, requests on the same cached prefix together).")
    var schedulePolicy: SchedulingPolicy = .fcfs
    @Flag(help: "Download whole logits rows every step even where the device samples (argmax, top-k) itself.")
    var hostSampling = false
    @Flag(help: "Deterministic mode: batch-invariant kernels, so a request's tokens and logprobs are bitwise the same however it is batched, cached or chunked (one rank; the device must claim it).")
    var deterministic = false

    func validate() throws {
        if let problem = EngineConfig.flagsProblem(
            kvMemory: kvMemory, kvFraction: kvFraction, maxRunningRequests: maxRunningRequests, maxBatchedTokens: maxBatchedTokens
        ) { throw ValidationError(problem) }
    }

    /// The engine configuration for pages of `pageSize` tokens.
    func engineConfig(pageSize: Int, seed: UInt64 = 0) -> EngineConfig {
        let budget = kvMemory.flatMap(KVMemoryBudget.parse) ?? .fractionOfAvailable(kvFraction)
        return EngineConfig(
            pageSize: pageSize, kvMemory: budget, kvCacheDType: kvCacheDType, maxBatchedTokens: maxBatchedTokens,
            maxRunningRequests: maxRunningRequests, policy: schedulePolicy, isPrefixCacheEnabled: !noPrefixCache,
            seed: seed, usesDeviceSampling: !hostSampling, isDeterministic: deterministic)
    }

    /// What the engine configuration for pages of `pageSize` tokens needs of the device.
    func deviceRequirements(pageSize: Int) -> DeviceRequirements { engineConfig(pageSize: pageSize).deviceRequirements }
}

/// `--kv-dtype` values: any dtype by name; whether the device holds it is its capabilities' call.
extension DType: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.description) }
}

/// `--schedule-policy` values: the policies by name (fcfs, lpm).
extension SchedulingPolicy: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
}
