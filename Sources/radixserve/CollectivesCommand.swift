import ArgumentParser
import Collectives
import Engine
import Foundation

/// `radixserve collectives`: multi-process checks and benchmarks of the socket communicator.
struct CollectivesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collectives",
        abstract: "Check or benchmark collectives between processes.",
        shouldDisplay: false,
        subcommands: [CollectivesCheckCommand.self, CollectivesBenchCommand.self])
}

/// One rank of a deterministic collectives check. For each count it prints
/// `<op> <count> <fnv-1a of the result's bit patterns>`, where rank r contributes
/// `value(r, i) = (r + 1) · (i mod 251 + 1) / 2` (sums are exact, so any order gives the same bits).
struct CollectivesCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Run one rank of a collectives check.")

    @Option var rank: Int
    @Option var tp: Int
    @Option var rendezvous: String
    @Option(help: "Comma-separated element counts.") var sizes: String = "1,7,1000"
    @Option var timeout: Double = 30


    func run() throws {
        let communicator = try SocketCommunicator.connect(
            rank: rank, worldSize: tp, rendezvous: rendezvous, fingerprint: "collectives-check",
            timeout: .milliseconds(Int64(timeout * 1000)))
        defer { communicator.close() }
        var lines = ""
        for count in sizes.split(separator: ",").compactMap({ Int($0) }) {
            let input = (0..<count).map { CollectiveCheckData.value(rank: rank, index: $0) }
            var values = input
            try communicator.allReduceSum(&values)
            lines += "allreduce \(count) \(CollectiveCheckData.hash(values))\n"
            let gathered = try communicator.allGather(input)
            lines += "allgather \(count) \(CollectiveCheckData.hash(gathered))\n"
            var broadcast = input
            try communicator.broadcast(&broadcast, root: count % tp)
            lines += "broadcast \(count) \(CollectiveCheckData.hash(broadcast))\n"
        }
        try communicator.barrier()
        StandardOutput.write(lines)
    }
}

/// All-reduce latency and bandwidth between processes: rank 0 spawns ranks 1..<N of itself.
struct CollectivesBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "All-reduce p50/p99 and bandwidth between processes (use a release build).")

    @Option var tp: Int = 2
    @Option(help: "ipc or tcp (loopback).") var transport: String = "ipc"
    @Option(help: "Comma-separated payload sizes in bytes.")
    var sizes: String = "4096,16384,65536,262144,1048576,4194304,16777216"
    @Option(help: "Bytes moved per size (bounds the iteration count).") var bytesPerSize: Int = 256 << 20
    @Flag(inversion: .prefixedNo, help: "Small ipc all-reduces through same-host shared memory (else all over ZeroMQ).")
    var sharedMemory = true
    @Option(help: .hidden) var rank: Int = 0
    @Option(help: .hidden) var rendezvous: String?
    @Option(help: .hidden) var parentPid: Int32?

    func validate() throws {
        guard ["ipc", "tcp"].contains(transport) else { throw ValidationError("--transport is ipc or tcp") }
        guard tp >= 2 else { throw ValidationError("--tp must be ≥ 2") }
    }

    func run() throws {
        let byteCounts = sizes.split(separator: ",").compactMap { Int($0) }
        var children: ChildProcessGroup?
        let endpoint = rendezvous ?? (transport == "ipc"
            ? "ipc://\(FileManager.default.temporaryDirectory.path)/rxs-bench-\(UUID().uuidString.prefix(8))"
            : "tcp://127.0.0.1:\(Int.random(in: 20000..<60000))")
        if let parentPid { ParentWatchdog.start(parent: parentPid, rank: rank) }
        if rank == 0 {
            let parent = getpid()
            children = try ChildProcessGroup(size: tp) { rank in
                ["collectives", "bench", "--tp", "\(tp)", "--transport", transport, "--sizes", sizes,
                 "--bytes-per-size", "\(bytesPerSize)", "--rank", "\(rank)", "--rendezvous", endpoint]
                    + ["--parent-pid", "\(parent)", sharedMemory ? "--shared-memory" : "--no-shared-memory"]
            }
        }
        defer { children?.finish(grace: .seconds(10)) }
        let communicator = try SocketCommunicator.connect(
            rank: rank, worldSize: tp, rendezvous: endpoint, fingerprint: "bench", timeout: .seconds(60),
            sharedMemory: sharedMemory)
        defer { communicator.close() }
        let rows = try benchmarkAllReduce(
            communicator: communicator, medium: transport, byteCounts: byteCounts, bytesPerSize: bytesPerSize)
        guard rank == 0 else { return }
        var text = "all-reduce between \(tp) processes over \(transport)\n"
        text += "bytes       algorithm      iterations  p50 µs      p99 µs      GB/s (p50)\n"
        for row in rows {
            text += String(format: "%-11d %-14@ %-11d %-11.1f %-11.1f %.3f\n", row.byteCount, row.algorithm as NSString,
                row.iterations, row.p50.microseconds, row.p99.microseconds, row.gigabytesPerSecond)
        }
        StandardOutput.write(text)
    }
}

extension Duration {
    var microseconds: Double { seconds * 1e6 }
}
