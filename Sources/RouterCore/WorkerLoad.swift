// RadixServe: the load figures dispatch policies look at.

import ServingTypes

extension LoadReport {
    /// Extra time-to-first-token per running decode request (seconds): one decode step at the
    /// reported decode speed, 0 until measured.
    package var decodeInterferenceSeconds: Double { decodeTokensPerSecond > 0 ? 1 / decodeTokensPerSecond : 0 }
}

/// A worker's load as the router sees it at decision time: the last report plus the router's
/// own counters, which move synchronously with each ``WorkerRegistry/reserve(worker:prefillTokens:pages:)``.
package struct WorkerLoad: Hashable, Sendable {
    /// The worker.
    package var worker: WorkerID
    /// The last report (all zero before the first).
    package var report: LoadReport
    /// Requests dispatched by this router and not yet released.
    package var inFlightCount: Int
    /// Uncached prompt tokens of this router's requests that have not finished prefill.
    package var reservedPrefillTokens: Int
    /// Pages this router expects its in-flight requests to take.
    package var reservedPages: Int
    /// Learned prefill speed (EWMA of observations and reports), tokens per second.
    package var prefillTokensPerSecond: Double

    /// Creates a load view.
    package init(
        worker: WorkerID, report: LoadReport = LoadReport(), inFlightCount: Int = 0,
        reservedPrefillTokens: Int = 0, reservedPages: Int = 0, prefillTokensPerSecond: Double
    ) {
        self.worker = worker
        self.report = report
        self.inFlightCount = inFlightCount
        self.reservedPrefillTokens = reservedPrefillTokens
        self.reservedPages = reservedPages
        self.prefillTokensPerSecond = prefillTokensPerSecond
    }

    /// Prefill work queued ahead of a new request: the larger of the worker's report and the
    /// router's own count (they overlap; the report may lag, the router misses other routers).
    package var queuedPrefillTokens: Int { max(report.waitingPrefillTokens, reservedPrefillTokens) }

    /// Pages a new request could still get without preempting anyone.
    package var availablePages: Int { max(report.freePages + report.evictablePages - reservedPages, 0) }

    /// A unit-free load score for `least-load` and `power-of-two`: requests at the worker, or the
    /// router's in-flight count when larger (the report lags dispatches that overlap it).
    package var requestLoad: Int { max(report.runningCount + report.waitingCount, inFlightCount) }
}
