import Foundation
import ServingClient
import ServingTypes
import Testing
import TestSupport

/// The router's hit counters count what workers served from their caches, not what routing
/// predicted: after a flush, the next request for a prompt the router had just sent counts as a miss.
@Suite struct CacheHitMetricsTests {
    static func counter(_ name: String, in metrics: String) -> Int? {
        metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int($0.split(separator: " ").last ?? "") }
    }

    @Test func hitsCountCachedTokensWorkersReportAndAFlushedPromptIsAMiss() throws {
        let cluster = try LocalCluster(workerCount: 1)
        let prompt = (0..<51).map { 100 + $0 }  // 3 whole pages and 3 tokens
        func complete() throws -> Int? {
            try cluster.client.complete(CompletionRequest(
                model: nil, prompt: .tokenIDs(prompt), sampling: SamplingFields(maxTokens: 2, temperature: 0, ignoreEOS: true)))
                .usage?.cachedTokens
        }
        func counts() throws -> (hits: Int?, misses: Int?, predicted: Int?) {
            let metrics = try cluster.client.metrics()
            return (
                Self.counter("sgl_router_cache_hits_total", in: metrics), Self.counter("sgl_router_cache_misses_total", in: metrics),
                Self.counter("radixserve_router_predicted_cache_hits_total", in: metrics))
        }
        #expect(try complete() == 0)
        #expect(try counts().hits == 0 && counts().misses == 1)
        usleep(300_000)  // the worker's `stored` batch reaches the router's index
        #expect(try complete() == 48)
        #expect(try counts().hits == 1 && counts().misses == 1)

        // Right after the flush, before the worker's `cleared` batch need have reached the router: the
        // router's index may still credit the worker with the prompt, but the worker flushed first
        // (its messages are handled in order) and serves it uncached.
        try cluster.client.flushCache()
        #expect(try complete() == 0, "the worker still served the flushed prompt from its cache")
        let after = try counts()
        #expect(after.hits == 1 && after.misses == 2, "a flushed prompt counted as a hit: \(after)")
        #expect((after.predicted ?? 0) >= 1, "routing's own prediction is still exported")
    }
}
