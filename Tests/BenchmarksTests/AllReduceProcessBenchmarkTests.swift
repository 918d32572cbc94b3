import Benchmarks
import Testing

@Suite struct AllReduceProcessBenchmarkTests {
    /// Spawned ranks get rank 0's flags, their own rank and rendezvous, and the parent to watch.
    @Test func spawnedRanksRepeatTheFlagsOfRankZero() {
        var benchmark = AllReduceProcessBenchmark(
            worldSize: 4, medium: "tcp", sizes: "4096,65536", bytesPerSize: 1 << 20, sharedMemory: true, rank: 0,
            rendezvous: nil, parentPID: nil)
        #expect(benchmark.childArguments(rank: 3, rendezvous: "tcp://127.0.0.1:23456", parent: 77) == [
            "collectives", "bench", "--tp", "4", "--transport", "tcp", "--sizes", "4096,65536", "--bytes-per-size", "1048576",
            "--rank", "3", "--rendezvous", "tcp://127.0.0.1:23456", "--parent-pid", "77", "--shared-memory",
        ])
        benchmark.sharedMemory = false
        #expect(benchmark.childArguments(rank: 1, rendezvous: "ipc:///tmp/x", parent: 1).last == "--no-shared-memory")
    }
}
