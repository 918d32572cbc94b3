// RadixServe: a worker's own metrics, exported in Prometheus format.

import CoreMetrics
import Engine
import Prometheus
import ServingTypes
import Synchronization

/// A worker's engine figures as Prometheus metrics, recorded through swift-metrics into a registry
/// of its own and rendered on demand from the engine's published load (`GET /metrics` on
/// `--metrics-port`). Names follow SGLang's scheduler metrics where one exists (`sglang:*`), so a
/// dashboard built for SGLang workers reads these too; every series carries the worker's id.
///
/// Totals are counters: each render adds what the engine counted since the previous one.
/// Thread-safe.
public final class WorkerMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let dimensions: [(String, String)]
    /// What the previous render exported; held while rendering, so concurrent scrapes each add
    /// a consistent difference.
    private let exported = Mutex((stats: EngineStats(), retractions: 0))

    /// Metrics labelled with `workerID`.
    public init(workerID: UInt32) {
        factory = PrometheusMetricsFactory(registry: registry)
        dimensions = [("worker", "\(workerID)")]
    }

    /// The exposition text for `load` (the engine's latest) and whether the worker is registered.
    public func render(_ load: EngineLoad, isRegistered: Bool) -> String {
        let report = load.report
        let used = report.totalPages - report.freePages - report.evictablePages
        gauge("sglang:num_running_reqs", report.runningCount)
        gauge("sglang:num_queue_reqs", report.waitingCount)
        gauge("radixserve_worker_waiting_prefill_tokens", report.waitingPrefillTokens)
        gauge("sglang:token_usage", report.totalPages == 0 ? 0 : Double(used) / Double(report.totalPages))
        gauge("radixserve_worker_kv_pages_total", report.totalPages)
        gauge("radixserve_worker_kv_pages_free", report.freePages)
        gauge("radixserve_worker_kv_pages_cached", report.cachedPages)
        gauge("sglang:gen_throughput", report.decodeTokensPerSecond)
        gauge("radixserve_worker_prefill_tokens_per_second", report.prefillTokensPerSecond)
        gauge("radixserve_worker_registered", isRegistered ? 1 : 0)
        exported.withLock { previous in
            let stats = load.stats
            counter("radixserve_worker_steps_total", stats.stepCount - previous.stats.stepCount)
            counter("radixserve_worker_prefill_steps_total", stats.prefillStepCount - previous.stats.prefillStepCount)
            counter("radixserve_worker_prefill_tokens_total", stats.prefillTokenCount - previous.stats.prefillTokenCount)
            counter("sglang:generation_tokens_total", stats.sampledTokenCount - previous.stats.sampledTokenCount)
            counter("radixserve_worker_forward_seconds_total", stats.forwardSeconds - previous.stats.forwardSeconds)
            counter("radixserve_worker_retractions_total", load.retractionTotal - previous.retractions)
            previous = (stats, load.retractionTotal)
        }
        return registry.emitToString()
    }

    private func gauge(_ name: String, _ value: some BinaryInteger) {
        gauge(name, Double(value))
    }

    private func gauge(_ name: String, _ value: Double) {
        Gauge(label: name, dimensions: dimensions, factory: factory).record(value)
    }

    private func counter(_ name: String, _ delta: Int) {
        Counter(label: name, dimensions: dimensions, factory: factory).increment(by: max(delta, 0))
    }

    private func counter(_ name: String, _ delta: Double) {
        FloatingPointCounter(label: name, dimensions: dimensions, factory: factory).increment(by: max(delta, 0))
    }
}
