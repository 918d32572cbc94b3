// RadixServe: the router's counters and latency histograms, in Prometheus text format.

/// Cumulative figures since the router started. Names follow SGLang's server (`sglang:*`)
/// and router (`sgl_router_*`) where one exists, so existing dashboards work.
package struct RouterMetrics: Sendable {
    package var requestsTotal: UInt64 = 0
    package var abortedRequestsTotal: UInt64 = 0
    package var failedRequestsTotal: UInt64 = 0
    package var retriesTotal: UInt64 = 0
    package var recoveredAfterStreamingTotal: UInt64 = 0
    package var promptTokensTotal: UInt64 = 0
    package var generationTokensTotal: UInt64 = 0
    package var cachedTokensTotal: UInt64 = 0
    /// Decisions that credited the chosen worker with at least one cached page.
    package var cacheHitsTotal: UInt64 = 0
    package var cacheMissesTotal: UInt64 = 0
    package var processedRequests: [UInt32: UInt64] = [:]
    package var timeToFirstToken = LatencyHistogram(bounds: LatencyHistogram.requestBounds)
    package var interTokenLatency = LatencyHistogram(bounds: LatencyHistogram.requestBounds)
    package var endToEndLatency = LatencyHistogram(bounds: LatencyHistogram.requestBounds)
    package var decisionLatency = LatencyHistogram(bounds: LatencyHistogram.decisionBounds)

    package init() {}

    /// Prompt tokens served from cache over all prompt tokens so far (0 before any request).
    package var cacheHitRate: Double {
        promptTokensTotal == 0 ? 0 : Double(cachedTokensTotal) / Double(promptTokensTotal)
    }

    /// The exposition text; `gauges` are point-in-time figures the caller computes.
    package func render(gauges: RouterGauges) -> String {
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ lines: [(String, String)]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in lines { text += "\(name)\(labels.isEmpty ? "" : "{\(labels)}") \(value)\n" }
        }
        metric("sglang:num_requests_total", "counter", "Requests admitted by the router.", [("", "\(requestsTotal)")])
        metric("sglang:num_aborted_requests_total", "counter", "Requests aborted by their client.", [("", "\(abortedRequestsTotal)")])
        metric("sgl_router_request_errors_total", "counter", "Requests that ended with an error.", [("", "\(failedRequestsTotal)")])
        metric("sgl_router_retries_total", "counter", "Dispatches retried on another worker.", [("", "\(retriesTotal)")])
        metric(
            "radixserve_recovered_after_streaming_total", "counter",
            "Requests re-prefilled on another worker after their worker died mid-stream.",
            [("", "\(recoveredAfterStreamingTotal)")])
        metric("sglang:prompt_tokens_total", "counter", "Prompt tokens of finished requests.", [("", "\(promptTokensTotal)")])
        metric("sglang:generation_tokens_total", "counter", "Generated tokens of finished requests.", [("", "\(generationTokensTotal)")])
        metric("sglang:cached_tokens_total", "counter", "Prompt tokens served from worker prefix caches.", [("", "\(cachedTokensTotal)")])
        metric("sglang:cache_hit_rate", "gauge", "Cached over all prompt tokens since start.", [("", "\(cacheHitRate)")])
        metric("sgl_router_cache_hits_total", "counter", "Decisions crediting the chosen worker with cached pages.", [("", "\(cacheHitsTotal)")])
        metric("sgl_router_cache_misses_total", "counter", "Decisions with no cached page on the chosen worker.", [("", "\(cacheMissesTotal)")])
        metric(
            "sgl_router_processed_requests_total", "counter", "Requests finished per worker.",
            processedRequests.keys.sorted().map { ("worker=\"\($0)\"", "\(processedRequests[$0]!)") })
        metric("sgl_router_active_workers", "gauge", "Routable workers.", [("", "\(gauges.routableWorkers)")])
        metric("sglang:num_running_reqs", "gauge", "Requests in flight through the router.", [("", "\(gauges.inFlightRequests)")])
        metric(
            "sgl_router_running_requests", "gauge", "Requests in flight per worker.",
            gauges.inFlightByWorker.keys.sorted().map { ("worker=\"\($0)\"", "\(gauges.inFlightByWorker[$0]!)") })
        metric("sglang:num_queue_reqs", "gauge", "Requests waiting in worker queues (last reports).", [("", "\(gauges.waitingRequests)")])
        metric("sglang:token_usage", "gauge", "Share of worker KV pages in use (last reports).", [("", "\(gauges.tokenUsage)")])
        text += "# HELP sglang:time_to_first_token_seconds Time from admission to the first token.\n"
        text += "# TYPE sglang:time_to_first_token_seconds histogram\n"
        timeToFirstToken.render(name: "sglang:time_to_first_token_seconds", into: &text)
        text += "# HELP sglang:inter_token_latency_seconds Time between streamed token batches, per token.\n"
        text += "# TYPE sglang:inter_token_latency_seconds histogram\n"
        interTokenLatency.render(name: "sglang:inter_token_latency_seconds", into: &text)
        text += "# HELP sglang:e2e_request_latency_seconds Time from admission to the finish.\n"
        text += "# TYPE sglang:e2e_request_latency_seconds histogram\n"
        endToEndLatency.render(name: "sglang:e2e_request_latency_seconds", into: &text)
        text += "# HELP radixserve_router_decision_seconds Time to choose a worker (index match + policy).\n"
        text += "# TYPE radixserve_router_decision_seconds histogram\n"
        decisionLatency.render(name: "radixserve_router_decision_seconds", into: &text)
        return text
    }
}

/// Point-in-time figures for ``RouterMetrics/render(gauges:)``.
package struct RouterGauges: Sendable {
    package var routableWorkers = 0
    package var inFlightRequests = 0
    package var inFlightByWorker: [UInt32: Int] = [:]
    package var waitingRequests = 0
    package var tokenUsage = 0.0
}
