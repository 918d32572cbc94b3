// RadixServe: the backend's speed and traffic against a baseline backend, measured alternately.

import Backends
import Benchmarks
import Engine
import Foundation
import Models
import Scheduling
import ServingTypes

/// Prefill and batch-1 decode throughput, time to first token, output throughput at concurrency
/// 16, host↔device bytes per decode step and per prefill token, and the memory the backend holds,
/// each next to the baseline's and as a ratio. The two backends run alternately (A B A B, medians)
/// in this process, so both see the same machine load. Figures from a debug build are not
/// performance: certify a release build (`swift build -c release`).
enum PerformanceCertification {
    /// What one round measured on one backend.
    struct Round {
        var prefill = 0.0, decode = 0.0, timeToFirstToken = 0.0, concurrent = 0.0
        var bytesPerDecodeStep: Double?, bytesPerPrefillToken: Double?
        /// MiB of weights and of the 64-page KV cache as the backend holds them.
        var modelMemory = 0.0
        /// MiB in use on a device that does not share host memory, after the round.
        var deviceMemory: Double?
    }

    static func checks(plan: CertificationPlan) throws -> [CertificationCheck] {
        guard let directory = plan.models.first else {
            return [CertificationCheck(.perf, "perf", .skip, figure: "no model", detail: "give a model with --model")]
        }
        let config = try ModelConfig.load(directory: directory)
        let (promptTokens, decodeTokens) = plan.isFull
            ? (min(512, config.maxPositionEmbeddings / 2), min(128, config.maxPositionEmbeddings / 4))
            : (min(64, config.maxPositionEmbeddings / 2), min(16, config.maxPositionEmbeddings / 4))
        let (requests, rounds) = plan.isFull ? (64, 3) : (16, 2)
        var random = SeededRandom(seed: 7)
        let prompts = EngineBench.randomPrompts(
            count: requests, length: promptTokens / 2, vocabulary: config.vocabularySize, random: &random)
        var mine: [Round] = []
        var theirs: [Round] = []
        for round in 0..<rounds {
            for (index, (device, name)) in [(plan.device, plan.backendName), (plan.baselineDevice, plan.baselineName)].enumerated() {
                plan.progress("certify: perf round \(round + 1)/\(rounds) on \(name)")
                let measured = try measure(
                    device, directory: directory, threads: plan.threads, promptTokens: promptTokens,
                    decodeTokens: decodeTokens, prompts: prompts)
                if index == 0 { mine.append(measured) } else { theirs.append(measured) }
            }
        }
        func median(_ rounds: [Round], _ value: (Round) -> Double?) -> Double? {
            let values = rounds.compactMap(value).sorted()
            return values.isEmpty ? nil : values[values.count / 2]
        }
        func check(
            _ name: String, _ unit: String, _ value: (Round) -> Double?, higherIsBetter: Bool?, format: String = "%.1f",
            unmeasured: String = ""
        ) -> CertificationCheck {
            guard let a = median(mine, value) else {
                return CertificationCheck(.perf, "perf.\(name)", .skip, figure: "not measured", detail: unmeasured)
            }
            let b = median(theirs, value)
            let ratio: Double? = b.flatMap { b in
                guard let higherIsBetter, a > 0, b > 0 else { return nil }
                return higherIsBetter ? a / b : b / a
            }
            var status = CheckStatus.info
            if let minimum = plan.minimumRatio, let ratio {
                status = ratio >= minimum ? .pass : .fail
            }
            let figure = String(format: format, a) + " \(unit) vs " + (b.map { String(format: format, $0) } ?? "n/a")
                + (ratio.map { String(format: " (%.2f×)", $0) } ?? "")
            var values = ["backend": a]
            if let b { values["baseline"] = b }
            if let ratio { values["ratio"] = ratio }
            return CertificationCheck(.perf, "perf.\(name)", status, figure: figure,
                detail: status == .fail ? String(format: "ratio below --min-ratio %.2f", plan.minimumRatio!) : "",
                values: values)
        }
        return [
            check("prefill-\(promptTokens)", "tok/s", { $0.prefill }, higherIsBetter: true, format: "%.0f"),
            check("decode-batch1", "tok/s", { $0.decode }, higherIsBetter: true),
            check("time-to-first-token", "ms", { $0.timeToFirstToken }, higherIsBetter: false),
            check("throughput-c16", "output tok/s", { $0.concurrent }, higherIsBetter: true),
            check("bytes-per-decode-step", "B", { $0.bytesPerDecodeStep }, higherIsBetter: nil, format: "%.0f", unmeasured: "the backend does not count host↔device traffic (it shares host memory or is not a plugin)"),
            check("bytes-per-prefill-token", "B", { $0.bytesPerPrefillToken }, higherIsBetter: nil, unmeasured: "the backend does not count host↔device traffic (it shares host memory or is not a plugin)"),
            check("model-memory", "MiB", { $0.modelMemory }, higherIsBetter: false),
            check("device-memory-in-use", "MiB", { $0.deviceMemory }, higherIsBetter: nil,
                unmeasured: "the device shares host memory"),
        ]
    }

    /// One round on `device`: the single-request figures, the concurrent throughput, then the
    /// traffic and memory of one request.
    static func measure(
        _ device: any ComputeDevice, directory: URL, threads: Int, promptTokens: Int, decodeTokens: Int, prompts: [[Int32]]
    ) throws -> Round {
        var round = Round()
        let single = try SingleRequestBench.measure(
            model: try LlamaModel(directory: directory, backend: try device.makeBackend(threads: threads), maxStepTokens: 512),
            modelName: directory.lastPathComponent, backendName: device.name, pageSize: 16, promptTokens: promptTokens,
            decodeTokens: decodeTokens, runs: 1)
        round.prefill = single.prefillTokensPerSecond
        round.decode = single.decodeTokensPerSecond
        round.timeToFirstToken = 1000 * Double(promptTokens) / single.prefillTokensPerSecond

        let bench = EngineBench(config: EngineConfig(pageSize: 16, kvMemory: .pages(1024), maxBatchedTokens: 512)) {
            try LlamaModel(directory: directory, backend: try device.makeBackend(threads: threads), maxStepTokens: 512)
        }
        round.concurrent = try bench.measure(
            workload: "offline", prompts: prompts, outputTokens: decodeTokens, concurrency: 16
        ).outputTokensPerSecond

        let backend = try device.makeBackend(threads: threads)
        let counter = backend.hostTransfers
        let model = try LlamaModel(directory: directory, backend: backend, maxStepTokens: 512)
        let weightBytes = bytes(of: model.weights)
        let cacheBytes = try model.backend.kvCacheBytesPerPage(
            KVCacheSpec(config: model.config, shard: .single, pageSize: 16, pageCount: 64)) * 64
        let collector = EventCollector()
        let engine = try EngineLoop(
            model: model, config: EngineConfig(pageSize: 16, kvMemory: .pages(64), maxBatchedTokens: 512,
                isPrefixCacheEnabled: false), sink: collector.receive)
        defer { engine.shutdown() }
        let prompt = prompts[0]
        func traffic(_ tokens: Int) throws -> HostTransferTotals? {
            let before = counter?.totals
            let request = EngineRequest(
                id: RequestID(UInt64(tokens)), promptTokenIDs: prompt,
                params: SamplingParams(maxTokens: tokens, temperature: 0, ignoreEOS: true))
            _ = try collector.run([request], on: engine)
            guard let before, let after = counter?.totals else { return nil }
            return after - before
        }
        if let prefill = try traffic(1), let decode = try traffic(1 + decodeTokens) {
            let total = { (t: HostTransferTotals) in Double(t.toDevice + t.toHost) }
            round.bytesPerPrefillToken = total(prefill) / Double(prompt.count)
            round.bytesPerDecodeStep = (total(decode) - total(prefill)) / Double(decodeTokens)
        }
        round.modelMemory = Double(weightBytes + cacheBytes) / 1_048_576
        if !device.capabilities.sharesHostMemory {
            let memory = device.memoryInfo()
            round.deviceMemory = Double(memory.total - memory.free) / 1_048_576
        }
        return round
    }

    /// Bytes of every distinct weight buffer (a tied lm_head counts once).
    static func bytes(of weights: ModelWeights) -> Int {
        var seen = Set<ObjectIdentifier>()
        var total = 0
        func add(_ tensor: Tensor?) {
            guard let tensor, seen.insert(ObjectIdentifier(tensor.buffer)).inserted else { return }
            total += tensor.buffer.byteCount
        }
        add(weights.embedding)
        add(weights.finalNorm)
        add(weights.lmHead)
        for layer in weights.layers {
            for tensor in [layer.inputNorm, layer.qkv, layer.qkvBias, layer.queryNorm, layer.keyNorm, layer.output,
                layer.postAttentionNorm, layer.gateUp, layer.down] {
                add(tensor)
            }
        }
        return total
    }
}
