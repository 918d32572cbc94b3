import ArgumentParser
import Benchmarks
import Collectives
import Engine

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
        StandardOutput.write(try CollectiveCheckData.run(
            rank: rank, worldSize: tp, rendezvous: rendezvous, sizes: sizes.split(separator: ",").compactMap { Int($0) },
            timeout: .milliseconds(Int64(timeout * 1000))))
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
    @Flag(help: "CURVE on every socket of the group (throw-away keys); see docs/BENCHMARKS.md for its cost.")
    var curve = false
    @Option(help: .hidden) var curveKeyDirectory: String?
    @Option(help: .hidden) var rank: Int = 0
    @Option(help: .hidden) var rendezvous: String?
    @Option(help: .hidden) var parentPid: Int32?

    func validate() throws {
        guard ["ipc", "tcp"].contains(transport) else { throw ValidationError("--transport is ipc or tcp") }
        guard tp >= 2 else { throw ValidationError("--tp must be ≥ 2") }
    }

    func run() throws {
        let table = try AllReduceProcessBenchmark(
            worldSize: tp, medium: transport, sizes: sizes, bytesPerSize: bytesPerSize, sharedMemory: sharedMemory,
            rank: rank, rendezvous: rendezvous, parentPID: parentPid, curve: curve, curveKeyDirectory: curveKeyDirectory
        ).run()
        if let table { StandardOutput.write(table) }
    }
}
