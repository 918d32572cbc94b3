import ArgumentParser
import Foundation
import RadixTree
import ServingClient
import ServingTypes

/// `bench --url`: a load test of a router through `/v1/completions` (``ServingBenchmark``); this
/// file only checks the flags and prints the report.
extension BenchCommand {
    func validateServed() throws {
        guard ["shared-prefix", "multi-turn", "random"].contains(workload) else {
            throw ValidationError("--workload with --url must be shared-prefix, multi-turn or random, got '\(workload)'")
        }
        guard concurrencyLevels.count == 1 else {
            throw ValidationError("--concurrency with --url is one number of requests in flight, got '\(concurrency)'")
        }
        guard !modelOptions.isModelGiven else {
            throw ValidationError(
                "--model cannot be combined with --url (local model only); name the served model with --model-name")
        }
        guard engineOptions.kvMemory == nil && !engineOptions.noPrefixCache && engineOptions.schedulePolicy == .fcfs else {
            throw ValidationError(
                "--kv-memory, --no-prefix-cache and --schedule-policy cannot be combined with --url (local model only)")
        }
    }

    var servedWorkload: BenchmarkWorkload {
        switch workload {
        case "multi-turn":
            .multiTurn(
                conversations: groups, turns: served.turns, systemTokens: sharedTokens, questionTokens: questionTokens)
        case "random":
            .random(requests: requests, promptTokens: promptTokens)
        default:
            .sharedPrefix(groups: groups, perGroup: perGroup, systemTokens: sharedTokens, questionTokens: questionTokens)
        }
    }

    func runServed() throws {
        let client = try server.client()
        let models = try client.models()
        let model = served.modelName ?? models.first?.id
        let workload = servedWorkload
        let longest = workload.longestSequence(outputTokens: outputTokens)
        if let limit = models.first(where: { $0.id == model })?.maxModelLength, longest > limit {
            throw ValidationError(
                "the longest request needs \(longest) tokens but \(model ?? "the model") accepts \(limit); "
                    + "lower --system-tokens, --question-tokens, --turns or --output-tokens")
        }
        let benchmark = ServingBenchmark(
            client: client,
            configuration: .init(
                workload: workload, model: model, outputTokens: outputTokens, concurrency: concurrencyLevels[0],
                warmUpRequests: served.warmupRequests, vocabulary: served.vocabulary!, flushesCache: served.flushCache))
        var random = SeededRandom(seed: served.seed)
        let report = try benchmark.run(using: &random)
        StandardOutput.write(json ? try report.jsonLine() : report.summary)
        if report.completed == 0 { throw ExitCode.failure }
    }
}

extension BenchmarkReport {
    /// The human-readable report: totals, throughput, cache hit rate, a latency table and failures.
    var summary: String {
        var lines = [
            "\(workload) against \(url)\(model.map { " (model \($0))" } ?? ""): \(requests) requests, "
                + "concurrency \(concurrency), \(outputTokensPerRequest) output tokens each",
            String(format: "completed %d, failed %d, not sent %d in %.2f s", completed, failed, notSent, durationSeconds),
            String(
                format: "throughput: %.2f req/s, output %.1f tok/s, input %.1f tok/s", requestsPerSecond,
                outputTokensPerSecond, inputTokensPerSecond),
            String(
                format: "cache hit rate: %.1f%% (%d of %d prompt tokens cached)", cacheHitRate * 100, cachedTokens,
                promptTokens),
            "latency (ms)          mean       p50       p90       p99",
        ]
        for (name, summary) in [
            ("time to first token", timeToFirstToken), ("inter-token", interTokenLatency),
            ("per output token", timePerOutputToken), ("end to end", endToEndLatency),
        ] {
            let figures = [summary.meanMs, summary.p50Ms, summary.p90Ms, summary.p99Ms].map { value in
                value.map { String(format: "%9.1f", $0) } ?? String(repeating: " ", count: 8) + "-"
            }
            lines.append(name.padding(toLength: 20, withPad: " ", startingAt: 0) + figures.joined(separator: " "))
        }
        if requestsWithoutCachedTokens > 0 {
            lines.append("note: \(requestsWithoutCachedTokens) responses had no cached_tokens (counted as 0)")
        }
        if turnsWithoutOutputTokenIDs > 0 {
            lines.append(
                "note: \(turnsWithoutOutputTokenIDs) turns came back without token_ids (return_token_ids), "
                    + "so the next turn went on without the previous output")
        }
        for failure in failures.prefix(5) {
            lines.append("failed ×\(failure.count): \(failure.message)")
        }
        if failures.count > 5 { lines.append("… and \(failures.count - 5) more distinct failures") }
        return lines.joined(separator: "\n") + "\n"
    }
}
