// RadixServe: the router's counters, gauges and latency histograms, exported in Prometheus format.

import CoreMetrics
import Prometheus
import Synchronization

/// The router's metrics, recorded through swift-metrics into a Prometheus registry of its own (one
/// per coordinator, so several routers in one process never mix). Names follow SGLang's server
/// (`sglang:*`) and router (`sgl_router_*`) where one exists, so existing dashboards work.
///
/// Counters and histograms are recorded as events happen; gauges are point-in-time figures the
/// coordinator computes when the text is rendered. Thread-safe.
package final class RouterMetrics: Sendable {
    /// Where every metric lands; ``render(gauges:)`` emits it. Other code may record into it
    /// through ``factory``.
    package let registry = PrometheusCollectorRegistry()
    /// A swift-metrics factory over ``registry``, with this router's histogram buckets.
    package let factory: PrometheusMetricsFactory

    package let requests: CoreMetrics.Counter
    package let abortedRequests: CoreMetrics.Counter
    package let failedRequests: CoreMetrics.Counter
    package let retries: CoreMetrics.Counter
    package let recoveredAfterStreaming: CoreMetrics.Counter
    /// Dispatch decisions that credited the chosen worker with at least one cached page (from the
    /// index or a request just sent there): what routing predicted, not what the worker served.
    package let predictedCacheHits: CoreMetrics.Counter
    /// Finished requests whose worker served at least one prompt token from its cache, and the others.
    private let cacheHits: CoreMetrics.Counter
    private let cacheMisses: CoreMetrics.Counter
    package let timeToFirstToken: Recorder
    package let interTokenLatency: Recorder
    package let decisionLatency: Recorder
    private let promptTokens: CoreMetrics.Counter
    private let generationTokens: CoreMetrics.Counter
    private let cachedTokens: CoreMetrics.Counter
    private let endToEndLatency: Recorder
    /// Prompt and cached token totals, kept for the hit rate (counters cannot be read back).
    private let tokenTotals = Mutex<(prompt: UInt64, cached: UInt64)>((0, 0))
    /// Per-worker series of the point-in-time gauges, dropped when their worker goes away.
    private let workerGauges = Mutex<[WorkerSeries: CoreMetrics.Gauge]>([:])

    private struct WorkerSeries: Hashable {
        var label: String
        var worker: UInt32
    }

    /// Bounds suited to request latencies on CPU: 1 ms to 5 minutes.
    package static let requestBounds: [Double] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
    ]
    /// Bounds for router-internal decisions: 1 µs to 10 ms, finer around the 200 µs goal.
    package static let decisionBounds: [Double] = [
        0.000_001, 0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_075, 0.000_1, 0.000_15, 0.000_2, 0.000_3, 0.000_5,
        0.001, 0.01,
    ]

    package init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets = [
            Name.timeToFirstToken: Self.requestBounds, Name.interTokenLatency: Self.requestBounds,
            Name.endToEndLatency: Self.requestBounds, Name.decisionLatency: Self.decisionBounds,
        ]
        self.factory = factory
        func counter(_ name: String) -> CoreMetrics.Counter { CoreMetrics.Counter(label: name, factory: factory) }
        func histogram(_ name: String) -> Recorder { Recorder(label: name, aggregate: true, factory: factory) }
        requests = counter("sglang:num_requests_total")
        abortedRequests = counter("sglang:num_aborted_requests_total")
        failedRequests = counter("sgl_router_request_errors_total")
        retries = counter("sgl_router_retries_total")
        recoveredAfterStreaming = counter("radixserve_recovered_after_streaming_total")
        promptTokens = counter("sglang:prompt_tokens_total")
        generationTokens = counter("sglang:generation_tokens_total")
        cachedTokens = counter("sglang:cached_tokens_total")
        predictedCacheHits = counter("radixserve_router_predicted_cache_hits_total")
        cacheHits = counter("sgl_router_cache_hits_total")
        cacheMisses = counter("sgl_router_cache_misses_total")
        timeToFirstToken = histogram(Name.timeToFirstToken)
        interTokenLatency = histogram(Name.interTokenLatency)
        endToEndLatency = histogram(Name.endToEndLatency)
        decisionLatency = histogram(Name.decisionLatency)
    }

    private enum Name {
        static let timeToFirstToken = "sglang:time_to_first_token_seconds"
        static let interTokenLatency = "sglang:inter_token_latency_seconds"
        static let endToEndLatency = "sglang:e2e_request_latency_seconds"
        static let decisionLatency = "radixserve_router_decision_seconds"
        static let processed = "sgl_router_processed_requests_total"
        static let runningPerWorker = "sgl_router_running_requests"
        static let untrustedCacheEvents = "radixserve_worker_cache_events_untrusted"
    }

    /// Counts a request its worker finished (successfully, with an error or aborted).
    package func recordProcessed(by worker: UInt32) {
        CoreMetrics.Counter(label: Name.processed, dimensions: [("worker", "\(worker)")], factory: factory).increment()
    }

    /// Records a successful finish: its token counts, end-to-end latency, and a cache hit when
    /// its worker reported cached prompt tokens (a miss otherwise).
    package func recordCompleted(promptTokens prompt: Int, generatedTokens: Int, cachedTokens cached: Int, seconds: Double) {
        if cached > 0 { cacheHits.increment() } else { cacheMisses.increment() }
        promptTokens.increment(by: prompt)
        generationTokens.increment(by: generatedTokens)
        cachedTokens.increment(by: cached)
        endToEndLatency.record(seconds)
        tokenTotals.withLock {
            $0.prompt += UInt64(max(prompt, 0))
            $0.cached += UInt64(max(cached, 0))
        }
    }

    /// Prompt tokens served from cache over all prompt tokens so far (0 before any request).
    package var cacheHitRate: Double {
        tokenTotals.withLock { $0.prompt == 0 ? 0 : Double($0.cached) / Double($0.prompt) }
    }

    /// The exposition text, after setting the point-in-time `gauges`.
    package func render(gauges: RouterGauges) -> String {
        func gauge(_ name: String, _ value: Double) { CoreMetrics.Gauge(label: name, factory: factory).record(value) }
        gauge("sglang:cache_hit_rate", cacheHitRate)
        gauge("sgl_router_active_workers", Double(gauges.routableWorkers))
        gauge("sglang:num_running_reqs", Double(gauges.inFlightRequests))
        gauge("sglang:num_queue_reqs", Double(gauges.waitingRequests))
        gauge("sglang:token_usage", gauges.tokenUsage)
        let perWorker = [
            (Name.runningPerWorker, gauges.inFlightByWorker.mapValues(Double.init)),
            (Name.untrustedCacheEvents, gauges.untrustedCacheEventsByWorker.mapValues { $0 ? 1.0 : 0.0 }),
        ]
        workerGauges.withLock { series in
            for (key, gauge) in series where gauges.inFlightByWorker[key.worker] == nil {
                gauge.destroy()
                series[key] = nil
            }
            for (label, values) in perWorker {
                for (worker, value) in values {
                    let key = WorkerSeries(label: label, worker: worker)
                    let gauge = series[key] ?? CoreMetrics.Gauge(
                        label: label, dimensions: [("worker", "\(worker)")], factory: factory)
                    series[key] = gauge
                    gauge.record(value)
                }
            }
        }
        return registry.emitToString()
    }
}

/// Point-in-time figures for ``RouterMetrics/render(gauges:)``.
package struct RouterGauges: Sendable {
    package var routableWorkers = 0
    package var inFlightRequests = 0
    /// Per registered worker (its key set names the workers whose series exist).
    package var inFlightByWorker: [UInt32: Int] = [:]
    /// Per registered worker: 1 when the router stopped trusting its cache events.
    package var untrustedCacheEventsByWorker: [UInt32: Bool] = [:]
    package var waitingRequests = 0
    package var tokenUsage = 0.0
}
