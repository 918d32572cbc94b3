// RadixServe: the text report of a serving benchmark (`radixserve bench --url`).

import Foundation

extension BenchmarkReport {
    /// The human-readable report: totals, throughput, cache hit rate, a latency table and failures.
    public var summary: String {
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
