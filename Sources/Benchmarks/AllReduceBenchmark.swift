// RadixServe: in-process all-reduce benchmark (ranks are threads of this process).

import Collectives
import Foundation
import Synchronization

/// Latency and bandwidth of ``SocketCommunicator/allReduceSum(_:)`` for one payload size.
package struct AllReduceBenchmarkResult: Sendable {
    /// `"ipc"` or `"tcp"`.
    package var medium: String
    package var worldSize: Int
    package var byteCount: Int
    /// `"shared-memory"`, `"direct"` or `"ring"` (``SocketCommunicator/allReduceAlgorithm(byteCount:)``).
    package var algorithm: String
    package var iterations: Int
    package var p50: Duration
    package var p99: Duration

    /// Algorithm bandwidth at the median: payload bytes per second, in GB/s.
    package var gigabytesPerSecond: Double {
        let seconds = Double(p50.components.seconds) + Double(p50.components.attoseconds) / 1e18
        return Double(byteCount) / seconds / 1e9
    }

    /// Rank 0's rows as the text table of `radixserve collectives bench`.
    package static func table(_ rows: [AllReduceBenchmarkResult], worldSize: Int, medium: String) -> String {
        var text = "all-reduce between \(worldSize) processes over \(medium)\n"
        text += "bytes       algorithm      iterations  p50 µs      p99 µs      GB/s (p50)\n"
        for row in rows {
            text += String(format: "%-11d %-14@ %-11d %-11.1f %-11.1f %.3f\n", row.byteCount, row.algorithm as NSString,
                row.iterations, row.p50.microseconds, row.p99.microseconds, row.gigabytesPerSecond)
        }
        return text
    }
}

extension Duration {
    /// The duration in microseconds.
    fileprivate var microseconds: Double { (Double(components.seconds) + Double(components.attoseconds) * 1e-18) * 1e6 }
}

private final class BenchmarkResults: Sendable {
    let rows = Mutex<[AllReduceBenchmarkResult]>([])
    let errors = Mutex<[String]>([])
}

/// Measures all-reduce latency (p50/p99 as seen by rank 0) for each size in `byteCounts`.
///
/// Ranks are `worldSize` OS threads of this process, each with its own ZeroMQ context, talking
/// over `ipc://` or loopback `tcp://` exactly as separate processes would (the same sockets
/// and frames; only process scheduling differs). Blocks the calling thread; run release builds.
package func benchmarkAllReduce(
    medium: String, worldSize: Int = 2, byteCounts: [Int], directThresholdBytes: Int = 64 * 1024,
    bytesPerSize: Int = 512 << 20
) throws -> [AllReduceBenchmarkResult] {
    precondition(medium == "ipc" || medium == "tcp", "medium is ipc or tcp")
    let rendezvous =
        medium == "ipc"
        ? "ipc:///tmp/rxs-bench-\(UUID().uuidString.prefix(13))"
        : "tcp://127.0.0.1:\(Int.random(in: 20000..<60000))"
    let results = BenchmarkResults()
    let done = DispatchGroup()
    for rank in 0..<worldSize {
        done.enter()
        Thread {
            defer { done.leave() }
            do {
                let communicator = try SocketCommunicator.connect(
                    rank: rank, worldSize: worldSize, rendezvous: rendezvous, fingerprint: "bench",
                    timeout: .seconds(60))
                communicator.directThresholdBytes = directThresholdBytes
                for byteCount in byteCounts {
                    let iterations = min(5000, max(30, bytesPerSize / byteCount))
                    var values = [Float](repeating: Float(rank), count: byteCount / 4)
                    var samples: [Duration] = []
                    samples.reserveCapacity(iterations)
                    try communicator.barrier()
                    for iteration in 0..<(iterations + iterations / 10 + 3) {
                        let start = ContinuousClock.now
                        try communicator.allReduceSum(&values)
                        if iteration >= iterations / 10 + 3 { samples.append(ContinuousClock.now - start) }
                    }
                    guard rank == 0 else { continue }
                    samples.sort()
                    let row = AllReduceBenchmarkResult(
                        medium: medium, worldSize: worldSize, byteCount: byteCount,
                        algorithm: communicator.allReduceAlgorithm(byteCount: byteCount).rawValue, iterations: iterations,
                        p50: samples[samples.count / 2], p99: samples[min(samples.count - 1, samples.count * 99 / 100)])
                    results.rows.withLock { $0.append(row) }
                }
                try communicator.barrier()
            } catch {
                results.errors.withLock { $0.append("rank \(rank): \(error)") }
            }
        }.start()
    }
    done.wait()
    if let first = results.errors.withLock({ $0.first }) {
        throw CollectivesError(code: .transport, message: first, operation: "benchmark")
    }
    return results.rows.withLock { $0 }
}
