// RadixServe: prefill and batch-1 decode throughput of one request (`radixserve bench --workload single`).

import Backends
import Engine
import Foundation
import Models
import Scheduling
import ServingTypes
import Synchronization

/// Prefill and batch-1 decode throughput of a model through the engine loop, one request at a
/// time, and the heap allocations per decode step when the counter library is preloaded
/// (`scripts/check-allocations.sh`). Run it from a release build; debug builds are 10–100× slower.
public enum SingleRequestBench {
    /// What one run measured.
    public struct Result: Encodable, Sendable {
        public var model: String
        public var backend: String
        public var threads: Int
        public var weightDType: String
        public var kvCacheDType: String
        public var promptTokens: Int
        public var decodeTokens: Int
        public var prefillTokensPerSecond: Double
        public var decodeTokensPerSecond: Double
        /// Heap allocations per decode step after warm-up (only with the counter library preloaded).
        public var decodeAllocationsPerStep: Double?
        /// Bytes read back from the device per step for sampling (one logits row, or with
        /// on-device sampling a token id).
        public var logitsBytesPerStep: Double

        /// Three lines of text (four with the allocation count).
        public var summary: String {
            """
            model \(model) (\(weightDType) weights, \(kvCacheDType) KV cache), backend \(backend), threads \(threads)
            prefill \(promptTokens) tokens: \(String(format: "%.0f", prefillTokensPerSecond)) tok/s
            decode batch 1, \(decodeTokens) tokens: \(String(format: "%.1f", decodeTokensPerSecond)) tok/s
            read back for sampling: \(String(format: "%.0f", logitsBytesPerStep)) bytes per step
            \(decodeAllocationsPerStep.map { String(format: "heap allocations per decode step: %.2f\n", $0) } ?? "")
            """
        }
    }

    /// Measures `model` (which the engine owns from here): a warm-up, then `runs` times a prefill of
    /// `promptTokens` random tokens and a decode of `decodeTokens` more; reports medians. `modelName`
    /// and `backendName` only label the result; the KV cache holds `kvCacheDType`; `isDeterministic`
    /// runs the batch-invariant kernels.
    /// - Throws: ``ContextTooLong`` when `promptTokens + decodeTokens + 1` exceeds the model's context.
    public static func measure(
        model: sending LlamaModel, modelName: String, backendName: String, pageSize: Int, kvCacheDType: DType = .f32,
        usesDeviceSampling: Bool = true, isDeterministic: Bool = false, promptTokens: Int, decodeTokens: Int, runs: Int
    ) throws -> Result {
        let context = promptTokens + decodeTokens + 1
        guard context <= model.config.maxPositionEmbeddings else {
            throw ContextTooLong(neededTokens: context, maxPositionEmbeddings: model.config.maxPositionEmbeddings)
        }
        let threads = model.backend.threadCount
        let weightDType = model.backend.weightQuantization == .none ? model.weights.layers[0].qkv.dtype.description
            : "\(model.backend.weightQuantization) (from \(model.weights.layers[0].qkv.dtype))"
        let vocabulary = UInt64(model.config.vocabularySize)
        // One request at a time over a pool of exactly one context, never hitting the prefix
        // cache (every run prefills the same prompt), prefill in one chunk.
        let config = EngineConfig(
            pageSize: pageSize, kvMemory: .pages((context + pageSize - 1) / pageSize), kvCacheDType: kvCacheDType,
            maxBatchedTokens: max(promptTokens, 16), maxRunningRequests: 1, isPrefixCacheEnabled: false,
            usesDeviceSampling: usesDeviceSampling, isDeterministic: isDeterministic)
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
        let before = engine.load.stats
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
        return Result(
            model: modelName, backend: backendName, threads: threads, weightDType: weightDType,
            kvCacheDType: kvCacheDType.description, promptTokens: promptTokens,
            decodeTokens: decodeTokens, prefillTokensPerSecond: prefillRates.median,
            decodeTokensPerSecond: decodeRates.median, decodeAllocationsPerStep: allocationsPerStep,
            logitsBytesPerStep: Double(engine.load.stats.logitsBytes - before.logitsBytes)
                / Double(max(1, engine.load.stats.stepCount - before.stepCount)))
    }

    /// The prompt and decode tokens asked for do not fit the model's context.
    public struct ContextTooLong: Error, Hashable, CustomStringConvertible {
        public var neededTokens: Int
        public var maxPositionEmbeddings: Int

        public var description: String {
            "prompt + decode tokens (\(neededTokens)) exceed the model's context of \(maxPositionEmbeddings)"
        }
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

extension Array where Element == Double {
    fileprivate var median: Double { sorted()[count / 2] }
}
