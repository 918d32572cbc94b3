import Benchmarks
import RouterCore
import Testing

@Suite struct PrefixIndexBenchmarkTests {
    @Test func smallBenchmarkRuns() {
        let report = benchmarkPrefixIndex(workerCount: 2, chainsPerWorker: 20, promptTokens: 256, iterations: 20)
        #expect(report.indexedPages > 0)
        // The timed lookups run against the layout the benchmark claims: worker 0 holds 4/5 of the
        // 256-token prompt (12 whole pages of 16), worker 1 a quarter (4 pages).
        #expect(report.promptMatch[WorkerID(0)] == 12)
        #expect(report.promptMatch[WorkerID(1)] == 4)
        #expect(report.description.contains("decision"))
    }
}
