// RadixServe: micro-benchmark of prefix lookup and dispatch decisions (`radixserve bench`).

import PageHashing
import RouterCore
import ServingTypes

/// Latency percentiles of one measured operation, in microseconds.
package struct OperationLatency: Hashable, Sendable, CustomStringConvertible {
    /// Median.
    package var p50: Double
    /// 99th percentile.
    package var p99: Double
    /// Largest sample.
    package var max: Double

    init(_ samples: [Duration]) {
        let sorted = samples.map { Double($0.components.attoseconds) / 1e12 + Double($0.components.seconds) * 1e6 }.sorted()
        func at(_ quantile: Double) -> Double { sorted[min(Int(Double(sorted.count) * quantile), sorted.count - 1)] }
        p50 = at(0.5)
        p99 = at(0.99)
        max = sorted.last ?? 0
    }

    package var description: String {
        "p50 \(Self.format(p50)) µs  p99 \(Self.format(p99)) µs  max \(Self.format(max)) µs"
    }

    static func format(_ value: Double) -> String {
        let hundredths = Int(value * 100 + 0.5)
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

/// Results of ``benchmarkPrefixIndex(workerCount:chainsPerWorker:promptTokens:pageSize:iterations:seed:)``.
package struct PrefixIndexBenchmarkReport: Sendable, CustomStringConvertible {
    /// Distinct pages in the index after setup.
    package var indexedPages: Int
    /// Pages of the benchmark's prompt each worker holds, as the index matched them before timing.
    package var promptMatch: [WorkerID: Int]
    /// Hashing the prompt into its page chain.
    package var hashing: OperationLatency
    /// Galloping match of precomputed hashes.
    package var match: OperationLatency
    /// Page-by-page match of precomputed hashes (for comparison).
    package var linearMatch: OperationLatency
    /// A full `cache-aware` decision from precomputed hashes (match, policy, reserve, pending), then finish.
    package var decision: OperationLatency
    /// A full decision from raw tokens (hashing included).
    package var decisionFromTokens: OperationLatency

    package var description: String {
        """
        prefix index: \(indexedPages) pages
          hash 8k-token prompt     \(hashing)
          match (gallop)           \(match)
          match (linear walk)      \(linearMatch)
          decision (hashes given)  \(decision)
          decision (from tokens)   \(decisionFromTokens)
        """
    }
}

/// Builds an index of `workerCount` workers × `chainsPerWorker` cached chains (shared system
/// prompts plus unique suffixes, 8–128 pages each), then times lookups and decisions for a
/// `promptTokens`-token prompt that one worker holds mostly, another partly; decisions use 64
/// variants of it (shared first three quarters) so pending leases pile up. Deterministic per seed.
/// Run in release; takes a few seconds.
package func benchmarkPrefixIndex(
    workerCount: Int = 8, chainsPerWorker: Int = 2_000, promptTokens: Int = 8_192, pageSize: Int = 16,
    iterations: Int = 2_000, seed: UInt64 = 42
) -> PrefixIndexBenchmarkReport {
    precondition(workerCount >= 2 && chainsPerWorker >= 1 && promptTokens >= pageSize)
    var generator = SeededRandom(seed: seed)
    let hasher = PageHasher(seed: 7, pageSize: pageSize)
    var state = RouterState(hasher: hasher, registry: WorkerRegistry(heartbeatInterval: .seconds(3600)))
    let start = RouterInstant(nanoseconds: 0)
    let systemPrompts = (0..<32).map { _ in randomTokens(pageSize * Int.random(in: 4...64, using: &generator), &generator) }

    func cache(_ tokens: [Int32], on worker: WorkerID, held: inout Set<UInt64>, sequence: inout UInt64) {
        let hashes = hasher.chain(tokens[...], namespace: 0)
        let known = hashes.prefix { held.contains($0) }.count
        guard known < hashes.count else { return }
        sequence += 1
        let event = CacheEvent.stored(namespace: 0, parentHash: known == 0 ? nil : hashes[known - 1], pageHashes: Array(hashes[known...]))
        _ = state.apply(WorkerEventBatch(worker: worker, incarnation: 1, sequence: sequence, events: [event]), now: start)
        held.formUnion(hashes)
    }

    let prompt = randomTokens(promptTokens, &generator)
    for number in 0..<workerCount {
        let worker = WorkerID(UInt32(number))
        _ = state.addWorker(worker, incarnation: 1, totalPages: 100_000, lastSequence: 0, now: start)
        var held = Set<UInt64>()
        var sequence: UInt64 = 0
        for _ in 0..<chainsPerWorker {
            let prefix = systemPrompts[Int.random(in: systemPrompts.indices, using: &generator)]
            cache(prefix + randomTokens(pageSize * Int.random(in: 4...64, using: &generator), &generator), on: worker, held: &held, sequence: &sequence)
        }
        // Worker 0 holds most of the prompt, worker 1 a quarter, the rest a few pages.
        let share = number == 0 ? promptTokens * 4 / 5 : number == 1 ? promptTokens / 4 : pageSize * (number % 3)
        if share >= pageSize { cache(Array(prompt.prefix(share)), on: worker, held: &held, sequence: &sequence) }
    }

    let promptMatch = state.index.match(pageHashes: hasher.pageHashes(prompt[...], namespace: 0))
    let clock = ContinuousClock()
    var hashing: [Duration] = []
    var matching: [Duration] = []
    var linear: [Duration] = []
    var decisions: [Duration] = []
    var tokenDecisions: [Duration] = []
    // Requests share the prompt's first three quarters and differ after, so each decision
    // leaves a distinct pending lease (about 2 s / 10 ms × 2 = 400 live leases on one root).
    let variants = (0..<64).map { _ in
        Array(prompt.prefix(promptTokens * 3 / 4)) + randomTokens(promptTokens - promptTokens * 3 / 4, &generator)
    }
    var hashes: [UInt64] = []
    var sink = 0
    for iteration in 0..<iterations {
        let now = start.advanced(by: .milliseconds(10 * iteration))
        let variant = variants[iteration % variants.count]
        hashing.append(clock.measure { hashes = hasher.pageHashes(variant[...], namespace: 0) })
        matching.append(clock.measure { sink &+= state.index.matchCount(pageHashes: hashes) })
        linear.append(clock.measure { sink &+= state.index.linearMatch(pageHashes: hashes).count })
        decisions.append(clock.measure {
            if let decision = state.route(pageHashes: hashes, promptTokens: promptTokens, outputTokens: 256, now: now) {
                state.finish(decision)
            }
        })
        let other = variants[(iteration + 32) % variants.count]
        tokenDecisions.append(clock.measure {
            if let decision = state.route(tokens: other[...], namespace: 0, outputTokens: 256, now: now) {
                state.finish(decision)
            }
        })
    }
    precondition(sink >= 0)
    return PrefixIndexBenchmarkReport(
        indexedPages: state.index.pageCount, promptMatch: promptMatch, hashing: OperationLatency(hashing), match: OperationLatency(matching),
        linearMatch: OperationLatency(linear), decision: OperationLatency(decisions),
        decisionFromTokens: OperationLatency(tokenDecisions))
}

private func randomTokens(_ count: Int, _ generator: inout SeededRandom) -> [Int32] {
    (0..<count).map { _ in Int32.random(in: 0..<128_000, using: &generator) }
}
