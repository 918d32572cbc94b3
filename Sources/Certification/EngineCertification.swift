// RadixServe: properties of the engine that must hold on any backend (batching, caching, chunking,
// retraction, tensor parallelism, seeded sampling).

import Backends
import Engine
import Foundation
import Models
import Scheduling
import ServingTypes

/// The same request must give the same tokens alone and in a mixed batch, on a prefix-cache hit
/// and a miss, prefilled whole and in chunks, when retracted under a small KV pool and resumed, on
/// one rank and on two, and sampled with a seed: the bugs that show only off the reference
/// device. Run on the first model of the plan, with its reference prompts (greedy requests must
/// also equal transformers' tokens, checked in the models section).
enum EngineCertification {
    static func checks(plan: CertificationPlan) throws -> [CertificationCheck] {
        guard let directory = plan.models.first else {
            return [CertificationCheck(.engine, "engine", .skip, figure: "no model", detail: "give a model with --model")]
        }
        let reference = try ReferenceFile.load(model: directory)
        let prompts = reference.prompts.map(\.promptTokenIDs)
        let steps = plan.isFull ? 32 : 12
        let greedy = SamplingParams(maxTokens: steps, temperature: 0, ignoreEOS: true)
        let sampled = SamplingParams(maxTokens: steps, temperature: 0.8, topP: 0.95, seed: 1234, ignoreEOS: true)
        var runner = try Runner(directory: directory, plan: plan)
        defer { runner.shutdown() }
        let solo = try prompts.map { try runner.one($0, greedy, on: runner.main) }
        var checks: [CertificationCheck] = []

        // Alone vs in one batch with every other prompt twice (prefill rows next to decode rows).
        plan.progress("certify: engine batch invariance")
        runner.flush(runner.main)
        let batched = try runner.all(prompts + prompts, greedy, on: runner.main)
        checks.append(compare("engine.batch-invariance", solo + solo, batched, what: "alone vs batched"))

        // Cache hit vs miss: the same prompts again (hits), and each prompt extended by a few tokens.
        plan.progress("certify: engine prefix cache")
        let hitOutputs = try runner.outputs(prompts, greedy, on: runner.main)
        let hits = hitOutputs.map(\.tokenIDs)
        let cached = hitOutputs.reduce(0) { $0 + ($1.usage?.cachedTokenCount ?? 0) }
        let extended = prompts.map { $0 + $0.prefix(3) }
        let extendedHit = try extended.map { try runner.one($0, greedy, on: runner.main) }
        runner.flush(runner.main)
        let extendedMiss = try extended.map { try runner.one($0, greedy, on: runner.main) }
        var cache = compare("engine.prefix-cache", solo + extendedMiss, hits + extendedHit, what: "miss vs hit")
        if cached == 0 && cache.status == .pass {
            cache = CertificationCheck(.engine, cache.name, .fail, figure: "no cache hit",
                detail: "the repeated prompts were served with 0 cached tokens")
        }
        cache.values["cachedTokens"] = Double(cached)
        checks.append(cache)

        // Chunked prefill: at most 16 tokens per step.
        plan.progress("certify: engine chunked prefill")
        let chunkedEngine = try runner.engine(EngineConfig(pageSize: 16, kvMemory: .pages(256), maxBatchedTokens: 16))
        let chunked = try prompts.map { try runner.one($0, greedy, on: chunkedEngine) }
        chunkedEngine.shutdown()
        checks.append(compare("engine.chunked-prefill", solo, chunked, what: "whole vs 16-token chunks"))

        // Retraction: short prompts that each grow past a page boundary while decoding, four copies
        // each over a pool too small for all of them at once, so running requests must be retracted
        // and resumed.
        plan.progress("certify: engine retraction")
        let short = prompts.map { Array($0.prefix(8)) }
        let shortSolo = try short.map { try runner.one($0, greedy, on: runner.main) }
        let pool = 2 * short.count
        let smallEngine = try runner.engine(EngineConfig(pageSize: 8, kvMemory: .pages(pool), maxBatchedTokens: 512))
        let many = Array(repeating: short, count: 4).flatMap { $0 }
        let retracted = try runner.all(many, greedy, on: smallEngine)
        let retractions = smallEngine.load.retractionTotal
        smallEngine.shutdown()
        var retraction = compare(
            "engine.retraction", Array(repeating: shortSolo, count: 4).flatMap { $0 }, retracted, what: "solo vs retracted")
        if retractions == 0 && retraction.status == .pass {
            retraction = CertificationCheck(.engine, retraction.name, .fail, figure: "no retraction",
                detail: "\(many.count) requests over \(pool) pages of 8 were never retracted")
        }
        retraction.values["retractions"] = Double(retractions)
        retraction.figure += ", \(retractions) retractions over \(pool) pages of 8"
        checks.append(retraction)

        // Seeded sampling: reproducible alone, and the same inside a batch.
        plan.progress("certify: engine seeded sampling")
        runner.flush(runner.main)
        let first = try prompts.map { try runner.one($0, sampled, on: runner.main) }
        runner.flush(runner.main)
        let again = try runner.all(prompts + prompts, sampled, on: runner.main)
        checks.append(compare("engine.seeded-sampling", first + first, again, what: "alone vs again batched"))

        checks.append(try tensorParallel(directory: directory, prompts: prompts, solo: solo, greedy: greedy, plan: plan))
        return checks
    }

    /// Greedy tokens at TP 2 (ranks spawned as `radixserve rank` on the same backend) against TP 1.
    static func tensorParallel(
        directory: URL, prompts: [[Int32]], solo: [[Int32]], greedy: SamplingParams, plan: CertificationPlan
    ) throws -> CertificationCheck {
        guard let backendName = plan.rankBackend else {
            return CertificationCheck(.engine, "engine.tp2", .skip, figure: "not run",
                detail: "this device exists only in this process; ranks cannot be spawned on it")
        }
        let config = try ModelConfig.load(directory: directory)
        do {
            try TensorParallelShard(rank: 0, size: 2).validate(config)
        } catch {
            return CertificationCheck(.engine, "engine.tp2", .skip, figure: "not shardable", detail: "\(error)")
        }
        plan.progress("certify: engine TP 2")
        let launch = TensorParallelLaunch(size: 2, endpoint: nil, dataEndpoint: nil, timeout: .seconds(60), isVocabParallel: true)
        let ranks = try launch.startRanks(model: directory.path, backend: backendName, threads: 1, killsOnSignal: false)
        defer { ranks.finish() }
        let leader = try launch.joinAsLeader(ranks, directory: directory, device: plan.device, threads: 1, maxStepTokens: 512)
        let collector = EventCollector()
        let engine = try EngineLoop(
            model: leader, config: EngineConfig(pageSize: 16, kvMemory: .pages(256), maxBatchedTokens: 512),
            sink: collector.receive)
        defer { engine.shutdown() }
        var outputs: [[Int32]] = []
        for (index, prompt) in prompts.enumerated() {
            let output = try collector.run(
                [EngineRequest(id: RequestID(UInt64(index + 1)), promptTokenIDs: prompt, params: greedy)], on: engine)[0]
            if let message = output.reason?.errorMessage { throw EngineError("TP 2: \(message)") }
            outputs.append(output.tokenIDs)
        }
        return compare("engine.tp2", solo, outputs, what: "TP 1 vs TP 2")
    }

    /// A check that `got` equals `want` request by request, naming the first request and token
    /// that differ.
    static func compare(_ name: String, _ want: [[Int32]], _ got: [[Int32]], what: String) -> CertificationCheck {
        let total = want.reduce(0) { $0 + $1.count }
        for (index, (w, g)) in zip(want, got).enumerated() where w != g {
            let step = zip(w, g).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(w.count, g.count)
            let detail = "\(what): request \(index) first differs at token \(step): "
                + (step < g.count ? "got id \(g[step])" : "got nothing") + ", " + (step < w.count ? "expected id \(w[step])" : "expected nothing")
            return CertificationCheck(.engine, name, .fail, figure: "request \(index) differs", detail: detail)
        }
        return CertificationCheck(.engine, name, .pass, figure: "\(want.count) requests, \(total) tokens equal")
    }

    /// Engines on the plan's device with the model loaded anew for each.
    struct Runner {
        let directory: URL
        let plan: CertificationPlan
        let collector = EventCollector()
        var main: EngineLoop!
        var nextID: UInt64 = 0

        init(directory: URL, plan: CertificationPlan) throws {
            self.directory = directory
            self.plan = plan
            main = try engine(EngineConfig(pageSize: 16, kvMemory: .pages(512), maxBatchedTokens: 512))
        }

        func engine(_ config: EngineConfig) throws -> EngineLoop {
            let model = try LlamaModel(
                directory: directory, backend: try plan.device.makeBackend(threads: plan.threads), maxStepTokens: 512)
            return try EngineLoop(model: model, config: config, sink: collector.receive)
        }

        mutating func one(_ prompt: [Int32], _ params: SamplingParams, on engine: EngineLoop) throws -> [Int32] {
            try all([prompt], params, on: engine)[0]
        }

        /// Every prompt at once; their tokens in order.
        mutating func all(_ prompts: [[Int32]], _ params: SamplingParams, on engine: EngineLoop) throws -> [[Int32]] {
            try outputs(prompts, params, on: engine).map(\.tokenIDs)
        }

        /// Every prompt at once; their outputs in order.
        /// - Throws: ``EngineError`` naming the first request that failed.
        mutating func outputs(_ prompts: [[Int32]], _ params: SamplingParams, on engine: EngineLoop) throws
            -> [CollectedOutput]
        {
            let requests = prompts.map { prompt in
                nextID += 1
                return EngineRequest(id: RequestID(nextID), promptTokenIDs: prompt, params: params)
            }
            let outputs = try collector.run(requests, on: engine)
            if let failed = outputs.first(where: { $0.reason?.errorMessage != nil }) {
                throw EngineError("a request failed: \(failed.reason!.errorMessage!)")
            }
            return outputs
        }

        func flush(_ engine: EngineLoop) {
            engine.flushCacheAndWait()
        }

        func shutdown() {
            main.shutdown()
        }
    }
}
