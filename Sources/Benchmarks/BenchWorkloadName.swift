/// The workloads `radixserve bench` runs: in its own process, or against a router (`--url`).
public enum BenchWorkloadName {
    /// Workloads of a model (or index) in the benchmarking process.
    public static let local = ["single", "offline", "shared-prefix", "structured", "router-index", "matmul", "quantization"]
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

    /// Nil when every token and request count is at least 1, `--top-k` (if given) at least 0, and
    /// `concurrency` (parsed `--concurrency`) lists at least one level, all positive; otherwise the
    /// message for the user.
    public static func countsProblem(_ counts: [Int], topK: Int? = nil, concurrency: [Int]) -> String? {
        guard counts.allSatisfy({ $0 >= 1 }) else { return "token and request counts must be ≥ 1" }
        if let topK, topK < 0 { return "--top-k must be ≥ 0 (0 samples from every token), got \(topK)" }
        guard !concurrency.isEmpty, concurrency.allSatisfy({ $0 >= 1 }) else {
            return "--concurrency must be a comma-separated list of positive integers"
        }
        return nil
    }

    /// Nil when `bench` can run local workload `name` with `--rows` `rows` (matmul: row counts in
    /// 1...4096); otherwise the message for the user.
    public static func localFlagsProblem(_ name: String, rows: String) -> String? {
        if let problem = problem(name, isServed: false) { return problem }
        guard name == "matmul" else { return nil }
        let counts = MatMulBench.rowCounts(rows) ?? []
        guard !counts.isEmpty, counts.allSatisfy({ (1...4096).contains($0) }) else {
            return "--rows must be a comma-separated list of integers in 1...4096, got '\(rows)'"
        }
        return nil
    }

    /// Nil when `bench --url` can run workload `name` with these flags: one `--concurrency`, no
    /// `--model` and no flag of a model loaded here (`hasLocalEngineFlags`); otherwise the message.
    public static func servedFlagsProblem(_ name: String, concurrency: String, isModelGiven: Bool, hasLocalEngineFlags: Bool) -> String? {
        if let problem = problem(name, isServed: true) { return problem }
        guard concurrency.split(separator: ",").compactMap({ Int($0) }).count == 1 else {
            return "--concurrency with --url is one number of requests in flight, got '\(concurrency)'"
        }
        if isModelGiven { return "--model cannot be combined with --url (local model only); name the served model with --model-name" }
        if hasLocalEngineFlags { return "--kv-memory, --no-prefix-cache and --schedule-policy cannot be combined with --url (local model only)" }
        return nil
    }

    /// `a, b or c`.
    private static func list(_ names: [String], _ conjunction: String) -> String {
        names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " \(conjunction) " + names.last!
    }
}
