import ArgumentParser
import Benchmarks

/// Flags of `bench --url` only.
struct ServedBenchOptions: ParsableArguments {
    @Option(help: "Served model name to request (default: the first model of the router's /v1/models).")
    var modelName: String?
    @Option(help: "Turns per conversation of the --url multi-turn workload.")
    var turns: Int = 4
    @Option(help: "Seed of the prompts and of the shared-prefix request order (--url).")
    var seed: UInt64 = 0
    @Option(help: "LOW:HIGH: prompt token ids are drawn from [LOW, HIGH); keep it inside the model's vocabulary (--url).")
    var vocabRange: String = "100:1000"
    @Option(help: "Unmeasured requests sent before measuring (--url).")
    var warmupRequests: Int = 2
    @Flag(help: """
        Flush the router's prefix cache after the warm-up, so an earlier run with the same --seed adds no hits (--url).
        """)
    var flushCache = false

    func validate() throws {
        guard vocabulary != nil else {
            throw ValidationError("--vocab-range must be LOW:HIGH with 0 ≤ LOW < HIGH, got '\(vocabRange)'")
        }
        guard turns >= 1 else { throw ValidationError("--turns must be ≥ 1, got \(turns)") }
        guard warmupRequests >= 0 else { throw ValidationError("--warmup-requests must be ≥ 0, got \(warmupRequests)") }
    }

    /// `--vocab-range` as a range, or nil if it is malformed.
    var vocabulary: Range<Int>? { ServingBenchmark.Configuration.vocabulary(vocabRange) }
}
