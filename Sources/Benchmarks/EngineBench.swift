// RadixServe: engine-loop throughput of many requests (`radixserve bench --workload offline|shared-prefix`).

import Engine
import Foundation
import Models
import Scheduling
import ServingTypes

/// Throughput workloads through the engine loop: every prompt submitted at once, at several
/// running-request limits.
public struct EngineBench {
    /// Loads a fresh model for each measured run (the engine owns and shuts down its model).
    public var makeModel: () throws -> sending any ForwardModel
    /// The engine configuration; each run sets its own running-request limit.
    public var config: EngineConfig
    /// Sample with temperature 1 from each row's `sampledTopK` most likely tokens (0: from the
    /// whole row; seeded per request) instead of greedily; nil: greedy.
    public var sampledTopK: Int?
    /// The output constraint of request `index` (the structured workload); nil: none.
    public var constraint: (@Sendable (Int) -> OutputConstraint?)?
    /// The checkpoint directory, whose tokenizer the structured workload needs.
    public var modelDirectory: URL?

    /// Creates a benchmark of engines with `config` over models from `makeModel`.
    public init(config: EngineConfig, makeModel: @escaping () throws -> sending any ForwardModel) {
        self.config = config
        self.makeModel = makeModel
    }

    /// One measured run.
    public struct Outcome: Encodable, Sendable {
        var workload: String
        var concurrency: Int
        /// `greedy`, `top-k K` or `temperature 1` (``sampledTopK`` K, or 0).
        var sampling: String
        var prefixCache: Bool
        var schedulePolicy: String
        var requests: Int
        public var seconds: Double
        public var outputTokensPerSecond: Double
        var totalTokensPerSecond: Double
        var cacheHitRate: Double
        var retractions: Int
        public var steps: Int
        var forwardSeconds: Double
        var samplingSeconds: Double
        var schedulingSeconds: Double
        /// Bytes read back from the device for sampling, per step.
        var logitsBytesPerStep: Double
        var pages: Int

        /// One line of text.
        public var summary: String {
            String(
                format: "%@ (%@) c=%d cache=%@ policy=%@: %d requests in %.2f s, output %.1f tok/s, total %.1f tok/s, hit rate %.1f%%, "
                    + "retractions %d, steps %d (forward %.2f s, sampling %.2f s, scheduling %.2f s), %.0f logits bytes/step, %d pages\n",
                workload, sampling, concurrency, prefixCache ? "on" : "off", schedulePolicy, requests, seconds, outputTokensPerSecond,
                totalTokensPerSecond, cacheHitRate * 100, retractions, steps, forwardSeconds, samplingSeconds,
                schedulingSeconds, logitsBytesPerStep, pages)
        }
    }

    /// Runs `prompts` (each generating `outputTokens`, greedy, ignoring EOS) with at most
    /// `concurrency` running, after a short warm-up on the same engine.
    public func measure(workload: String, prompts: [[Int32]], outputTokens: Int, concurrency: Int) throws -> Outcome {
        var config = config
        config.maxRunningRequests = concurrency
        let collector = EventCollector()
        let engine = try EngineLoop(model: try makeModel(), config: config, sink: collector.receive)
        defer { engine.shutdown() }
        func params(_ index: Int) -> SamplingParams {
            guard let sampledTopK else {
                return SamplingParams(maxTokens: outputTokens, temperature: 0, ignoreEOS: true, constraint: constraint?(index))
            }
            return SamplingParams(
                maxTokens: outputTokens, temperature: 1, topK: sampledTopK, seed: UInt64(index), ignoreEOS: true,
                constraint: constraint?(index))
        }

        // Warm-up: grow every scratch buffer, then forget the cache.
        let warmUp = prompts.prefix(min(concurrency, prompts.count)).enumerated().map { index, prompt in
            EngineRequest(id: RequestID(UInt64(1_000_000 + index)), promptTokenIDs: Array(prompt.reversed()),
                params: SamplingParams(maxTokens: 4, temperature: 0, ignoreEOS: true))
        }
        for request in warmUp { try engine.submit(request) }
        collector.waitForFinishes(warmUp.count)
        engine.flushCacheAndWait()
        let before = engine.load.stats
        let retractionsBefore = engine.load.retractionTotal

        let start = ContinuousClock.now
        for (index, prompt) in prompts.enumerated() {
            try engine.submit(EngineRequest(id: RequestID(UInt64(index)), promptTokenIDs: prompt, params: params(index)))
        }
        collector.waitForFinishes(warmUp.count + prompts.count)
        let seconds = (ContinuousClock.now - start).seconds
        let outputs = prompts.indices.map { collector.output(RequestID(UInt64($0))) }
        if let failed = outputs.first(where: { $0.reason?.errorMessage != nil }) {
            throw EngineError("a request failed: \(failed.reason!.errorMessage!)")
        }
        let outputCount = outputs.reduce(0) { $0 + $1.tokenIDs.count }
        let promptCount = prompts.reduce(0) { $0 + $1.count }
        let cached = outputs.reduce(0) { $0 + ($1.usage?.cachedTokenCount ?? 0) }
        let load = engine.load
        return Outcome(
            workload: workload, concurrency: concurrency, sampling: sampledTopK.map { $0 == 0 ? "temperature 1" : "top-k \($0)" } ?? "greedy",
            prefixCache: config.isPrefixCacheEnabled,
            schedulePolicy: config.policy.name, requests: prompts.count, seconds: seconds,
            outputTokensPerSecond: Double(outputCount) / seconds,
            totalTokensPerSecond: Double(outputCount + promptCount - cached) / seconds,
            cacheHitRate: Double(cached) / Double(max(1, promptCount)),
            retractions: load.retractionTotal - retractionsBefore, steps: load.stats.stepCount - before.stepCount,
            forwardSeconds: load.stats.forwardSeconds - before.forwardSeconds,
            samplingSeconds: load.stats.samplingSeconds - before.samplingSeconds,
            schedulingSeconds: load.stats.schedulingSeconds - before.schedulingSeconds,
            logitsBytesPerStep: Double(load.stats.logitsBytes - before.logitsBytes) / Double(max(1, load.stats.stepCount - before.stepCount)),
            pages: load.report.totalPages)
    }

    /// Runs the prompts of `workload` (drawn from the model's `vocabulary` size) once per running
    /// request limit of `concurrencyLevels`, in order, handing each outcome to `report` as soon as
    /// it is measured.
    public func measure(
        _ workload: Workload, vocabulary: Int, outputTokens: Int, concurrencyLevels: [Int], report: (Outcome) throws -> Void
    ) throws {
        let prompts = workload.prompts(vocabulary: vocabulary)
        if case .structured = workload {
            guard let modelDirectory else { throw EngineError("the structured workload needs the model's directory") }
            return try measureStructured(
                modelDirectory: modelDirectory, prompts: prompts, outputTokens: outputTokens, concurrencyLevels: concurrencyLevels,
                write: { FileHandle.standardOutput.write(Data($0.utf8)) })
        }
        for level in concurrencyLevels {
            try report(measure(workload: workload.name, prompts: prompts, outputTokens: outputTokens, concurrency: level))
        }
    }

    /// Random prompts: `count` of `length` tokens from ids `3 ..< vocabulary`.
    public static func randomPrompts(count: Int, length: Int, vocabulary: Int, random: inout SeededRandom) -> [[Int32]] {
        (0..<count).map { _ in (0..<length).map { _ in Int32(3 + random.next() % UInt64(vocabulary - 3)) } }
    }

    /// `groups × perGroup` prompts: a shared prefix per group followed by a private question.
    public static func sharedPrefixPrompts(
        groups: Int, perGroup: Int, sharedTokens: Int, questionTokens: Int, vocabulary: Int, random: inout SeededRandom
    ) -> [[Int32]] {
        let prefixes = randomPrompts(count: groups, length: sharedTokens, vocabulary: vocabulary, random: &random)
        var prompts: [[Int32]] = []
        for _ in 0..<perGroup {
            for group in 0..<groups {
                prompts.append(
                    prefixes[group]
                        + randomPrompts(count: 1, length: questionTokens, vocabulary: vocabulary, random: &random)[0])
            }
        }
        return prompts
    }
}

extension EngineBench {
    /// The prompts of a run (`radixserve bench --workload offline|shared-prefix`), drawn with seed 42.
    public enum Workload: Sendable, Hashable {
        /// `requests` random prompts of `promptTokens` tokens.
        case offline(requests: Int, promptTokens: Int)
        /// `requests` random prompts of `promptTokens` tokens, run without and with JSON Schemas
        /// (``EngineBench/measureStructured(modelDirectory:prompts:outputTokens:concurrencyLevels:write:)``).
        case structured(requests: Int, promptTokens: Int)
        /// `groups × perGroup` prompts: a `sharedTokens` prefix per group, then a private
        /// `questionTokens` question (see ``sharedPrefixPrompts(groups:perGroup:sharedTokens:questionTokens:vocabulary:random:)``).
        case sharedPrefix(groups: Int, perGroup: Int, sharedTokens: Int, questionTokens: Int)

        /// `offline` or `shared-prefix`, as outcomes report it.
        public var name: String {
            switch self {
            case .offline: "offline"
            case .structured: "structured"
            case .sharedPrefix: "shared-prefix"
            }
        }

        /// The prompts, token ids in `3 ..< vocabulary`; the same on every call.
        public func prompts(vocabulary: Int) -> [[Int32]] {
            var random = SeededRandom(seed: 42)
            switch self {
            case .offline(let requests, let promptTokens), .structured(let requests, let promptTokens):
                return EngineBench.randomPrompts(count: requests, length: promptTokens, vocabulary: vocabulary, random: &random)
            case .sharedPrefix(let groups, let perGroup, let sharedTokens, let questionTokens):
                return EngineBench.sharedPrefixPrompts(
                    groups: groups, perGroup: perGroup, sharedTokens: sharedTokens, questionTokens: questionTokens,
                    vocabulary: vocabulary, random: &random)
            }
        }
    }
}

extension EngineBench.Workload {
    /// `offline` (`requests` prompts of `promptTokens`) when `name` says so, else `shared-prefix`.
    public init(name: String, requests: Int, promptTokens: Int, groups: Int, perGroup: Int, sharedTokens: Int, questionTokens: Int) {
        self = name == "offline" ? .offline(requests: requests, promptTokens: promptTokens)
            : name == "structured" ? .structured(requests: requests, promptTokens: promptTokens)
            : .sharedPrefix(groups: groups, perGroup: perGroup, sharedTokens: sharedTokens, questionTokens: questionTokens)
    }
}
