// RadixServe: a Prometheus-style cumulative histogram.

/// Counts observations into fixed upper bounds (seconds), plus their sum and count.
package struct LatencyHistogram: Sendable {
    /// Upper bounds, ascending; `+Inf` is implicit.
    package let bounds: [Double]
    private(set) var counts: [UInt64]
    private(set) var sum = 0.0
    private(set) var count: UInt64 = 0

    /// Bounds suited to request latencies on CPU: 1 ms to 5 minutes.
    package static let requestBounds: [Double] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
    ]
    /// Bounds for router-internal decisions: 1 µs to 10 ms, finer around the 200 µs goal.
    package static let decisionBounds: [Double] = [
        0.000_001, 0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_075, 0.000_1, 0.000_15, 0.000_2, 0.000_3, 0.000_5,
        0.001, 0.01,
    ]

    package init(bounds: [Double]) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count)
    }

    /// Adds one observation.
    package mutating func observe(_ seconds: Double) {
        guard seconds.isFinite else { return }
        if let index = bounds.firstIndex(where: { seconds <= $0 }) { counts[index] += 1 }
        sum += seconds
        count += 1
    }

    /// The exposition lines (`_bucket`, `_sum`, `_count`) under `name` with extra `labels`.
    package func render(name: String, labels: String = "", into text: inout String) {
        var cumulative: UInt64 = 0
        let prefix = labels.isEmpty ? "" : labels + ","
        for (bound, bucket) in zip(bounds, counts) {
            cumulative += bucket
            text += "\(name)_bucket{\(prefix)le=\"\(bound)\"} \(cumulative)\n"
        }
        text += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(count)\n"
        let braces = labels.isEmpty ? "" : "{\(labels)}"
        text += "\(name)_sum\(braces) \(sum)\n"
        text += "\(name)_count\(braces) \(count)\n"
    }
}
