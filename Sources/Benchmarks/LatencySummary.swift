/// Mean and percentiles of a set of latencies, in milliseconds; all nil when there were none.
public struct LatencySummary: Sendable, Equatable, Encodable {
    public var count: Int
    public var meanMs: Double?
    public var p50Ms: Double?
    public var p90Ms: Double?
    public var p99Ms: Double?

    enum CodingKeys: String, CodingKey {
        case count
        case meanMs = "mean_ms"
        case p50Ms = "p50_ms"
        case p90Ms = "p90_ms"
        case p99Ms = "p99_ms"
    }

    public init(_ durations: [Duration]) {
        let milliseconds = durations.map(\.milliseconds).sorted()
        count = milliseconds.count
        guard !milliseconds.isEmpty else { return }
        meanMs = milliseconds.reduce(0, +) / Double(milliseconds.count)
        p50Ms = Self.percentile(milliseconds, 0.50)
        p90Ms = Self.percentile(milliseconds, 0.90)
        p99Ms = Self.percentile(milliseconds, 0.99)
    }

    /// The `fraction` quantile of ascending `sorted` values, interpolating linearly between the
    /// closest ranks (NumPy's default): rank `fraction × (n − 1)`.
    public static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        precondition(!sorted.isEmpty && (0...1).contains(fraction), "non-empty values and a fraction in 0...1")
        let rank = fraction * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (rank - Double(lower))
    }
}

extension Duration {
    /// This duration in (fractional) milliseconds.
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
