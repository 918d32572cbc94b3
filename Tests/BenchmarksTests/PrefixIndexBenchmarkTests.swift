import Benchmarks
import Testing

@Suite struct PrefixIndexBenchmarkTests {
    @Test func smallBenchmarkRuns() {
        let report = benchmarkPrefixIndex(workerCount: 2, chainsPerWorker: 20, promptTokens: 256, iterations: 20)
        #expect(report.indexedPages > 0)
        #expect(report.match.p50 <= report.match.max)
        #expect(report.description.contains("decision"))
    }
}
