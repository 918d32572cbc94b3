/// The workloads `radixserve bench` runs: in its own process, or against a router (`--url`).
public enum BenchWorkloadName {
    /// Workloads of a model (or index) in the benchmarking process.
    public static let local = ["single", "offline", "shared-prefix", "router-index", "matmul"]
    /// Workloads sent to a router through `/v1/completions` (``ServingBenchmark``).
    public static let served = ["shared-prefix", "multi-turn", "random"]

    /// Nil when `bench` runs `name` in the mode asked for; otherwise the message for the user,
    /// naming the workloads that mode has.
    public static func problem(_ name: String, isServed: Bool) -> String? {
        let names = isServed ? served : local
        guard !names.contains(name) else { return nil }
        let other = (isServed ? local : served).filter { !names.contains($0) }
        let hint = " (\(list(other, "and")) \(isServed ? "run without" : "need") --url)"
        return "--workload\(isServed ? " with --url" : "") must be \(list(names, "or")), got '\(name)'\(hint)"
    }

    /// `a, b or c`.
    private static func list(_ names: [String], _ conjunction: String) -> String {
        names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " \(conjunction) " + names.last!
    }
}
