// RadixServe: all-reduce benchmark for one rank of a group whose ranks may be separate processes.

import Collectives
import Engine
import Foundation
import ProcessLifecycle
import Transport

/// Measures ``Communicator/allReduceSum(_:)`` for each size in `byteCounts` on this rank; every
/// rank of the group calls it with the same arguments. Returns the rows as seen by this rank
/// (report rank 0's). Each size runs ~`bytesPerSize` bytes (30…5000 iterations) after a warm-up
/// of 10 % + 3 iterations, starting from a barrier.
package func benchmarkAllReduce(
    communicator: SocketCommunicator, medium: String, byteCounts: [Int], bytesPerSize: Int = 512 << 20
) throws -> [AllReduceBenchmarkResult] {
    var rows: [AllReduceBenchmarkResult] = []
    for byteCount in byteCounts {
        let iterations = min(5000, max(30, bytesPerSize / byteCount))
        var values = [Float](repeating: Float(communicator.rank), count: byteCount / 4)
        var samples: [Duration] = []
        samples.reserveCapacity(iterations)
        try communicator.barrier()
        let warmup = iterations / 10 + 3
        for iteration in 0..<(iterations + warmup) {
            let start = ContinuousClock.now
            try communicator.allReduceSum(&values)
            if iteration >= warmup { samples.append(ContinuousClock.now - start) }
        }
        samples.sort()
        rows.append(AllReduceBenchmarkResult(
            medium: medium, worldSize: communicator.worldSize, byteCount: byteCount,
            algorithm: communicator.allReduceAlgorithm(byteCount: byteCount).rawValue, iterations: iterations,
            p50: samples[samples.count / 2], p99: samples[min(samples.count - 1, samples.count * 99 / 100)]))
    }
    try communicator.barrier()
    return rows
}

/// Joins the group at `rendezvous` as `rank` of `worldSize` (over `medium`, with or without
/// same-host shared memory) and runs ``benchmarkAllReduce(communicator:medium:byteCounts:bytesPerSize:)``.
package func benchmarkAllReduce(
    rank: Int, worldSize: Int, rendezvous: String, medium: String, sharedMemory: Bool, byteCounts: [Int], bytesPerSize: Int,
    curve: GroupCurve? = nil
) throws -> [AllReduceBenchmarkResult] {
    let communicator = try SocketCommunicator.connect(
        rank: rank, worldSize: worldSize, rendezvous: rendezvous, fingerprint: "bench", timeout: .seconds(60),
        sharedMemory: sharedMemory, curve: curve)
    defer { communicator.close() }
    return try benchmarkAllReduce(communicator: communicator, medium: medium, byteCounts: byteCounts, bytesPerSize: bytesPerSize)
}

/// `radixserve collectives bench` on one rank of a group of processes. Rank 0 (which passes no
/// `rendezvous`) picks one, a fresh `ipc://` path in the temporary directory or a random loopback
/// `tcp://` port, and starts ranks 1..<`worldSize` as children of this executable with
/// `rankArguments(rank, rendezvous)`; every rank then runs
/// ``benchmarkAllReduce(rank:worldSize:rendezvous:medium:sharedMemory:byteCounts:bytesPerSize:)``,
/// and rank 0 waits for its children.
/// - Returns: rank 0's text table; nil on the other ranks.
package func benchmarkAllReduceAcrossProcesses(
    rank: Int, worldSize: Int, rendezvous: String?, medium: String, sharedMemory: Bool, byteCounts: [Int],
    bytesPerSize: Int, curve: GroupCurve? = nil, rankArguments: (_ rank: Int, _ rendezvous: String) -> [String]
) throws -> String? {
    let endpoint = rendezvous ?? (medium == "ipc"
        ? "ipc://\(FileManager.default.temporaryDirectory.path)/rxs-bench-\(UUID().uuidString.prefix(8))"
        : "tcp://127.0.0.1:\(Int.random(in: 20000..<60000))")
    let children = rank == 0 ? try ChildProcessGroup(size: worldSize) { rankArguments($0, endpoint) } : nil
    defer { children?.finish(grace: .seconds(10)) }
    let rows = try benchmarkAllReduce(
        rank: rank, worldSize: worldSize, rendezvous: endpoint, medium: medium, sharedMemory: sharedMemory,
        byteCounts: byteCounts, bytesPerSize: bytesPerSize, curve: curve)
    return rank == 0 ? AllReduceBenchmarkResult.table(rows, worldSize: worldSize, medium: medium) : nil
}

/// `radixserve collectives bench` on one rank, as its flags give it: rank 0 spawns ranks
/// 1..<``worldSize`` of this executable with the same flags (``childArguments(rank:rendezvous:parent:)``)
/// and reports the table; the spawned ranks watch their parent and exit when it is gone.
package struct AllReduceProcessBenchmark: Sendable {
    /// Ranks in the group (`--tp`).
    package var worldSize: Int
    /// `ipc` or `tcp` (loopback) (`--transport`).
    package var medium: String
    /// Comma-separated payload sizes in bytes (`--sizes`).
    package var sizes: String
    /// Bytes moved per size, which bounds the iteration count (`--bytes-per-size`).
    package var bytesPerSize: Int
    /// Whether small ipc all-reduces go through same-host shared memory (`--[no-]shared-memory`).
    package var sharedMemory: Bool
    /// This process's rank; 0 unless spawned.
    package var rank: Int
    /// The group's rendezvous; nil on rank 0, which picks one.
    package var rendezvous: String?
    /// The process that spawned this rank (`--parent-pid`); nil on rank 0.
    package var parentPID: Int32?
    /// Whether every socket of the group uses CURVE (`--curve`).
    package var curve: Bool
    /// With ``curve`` on a spawned rank: the 0700 directory where rank 0 wrote the group's
    /// throw-away keys (`leader.key`, `rank-K.key`, with their `.pub`); nil on rank 0.
    package var curveKeyDirectory: String?

    package init(
        worldSize: Int, medium: String, sizes: String, bytesPerSize: Int, sharedMemory: Bool, rank: Int,
        rendezvous: String?, parentPID: Int32?, curve: Bool = false, curveKeyDirectory: String? = nil
    ) {
        self.worldSize = worldSize
        self.medium = medium
        self.sizes = sizes
        self.bytesPerSize = bytesPerSize
        self.sharedMemory = sharedMemory
        self.rank = rank
        self.rendezvous = rendezvous
        self.parentPID = parentPID
        self.curve = curve || curveKeyDirectory != nil
        self.curveKeyDirectory = curveKeyDirectory
    }

    /// Runs this rank with
    /// ``benchmarkAllReduceAcrossProcesses(rank:worldSize:rendezvous:medium:sharedMemory:byteCounts:bytesPerSize:rankArguments:)``.
    /// - Returns: rank 0's text table; nil on the other ranks.
    package func run() throws -> String? {
        if let parentPID { ParentWatchdog.start(parent: parentPID, rank: rank) }
        let parent = getpid()
        let keys = try curve ? curveKeyDirectory ?? makeKeyDirectory() : nil
        defer { if curveKeyDirectory == nil, let keys { try? FileManager.default.removeItem(atPath: keys) } }
        return try benchmarkAllReduceAcrossProcesses(
            rank: rank, worldSize: worldSize, rendezvous: rendezvous, medium: curve ? medium + "+curve" : medium,
            sharedMemory: sharedMemory, byteCounts: sizes.split(separator: ",").compactMap { Int($0) }, bytesPerSize: bytesPerSize,
            curve: try keys.map(groupCurve)
        ) { childArguments(rank: $0, rendezvous: $1, parent: parent) + (keys.map { ["--curve-key-directory", $0] } ?? []) }
    }

    /// Rank 0 with ``curve``: a fresh 0700 directory with a key pair for every rank.
    private func makeKeyDirectory() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rxs-bench-keys-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try FileManager.default.createDirectory(atPath: directory + "/ranks", withIntermediateDirectories: false)
        _ = try CurveKeyPair.generate().write(prefix: directory + "/leader")
        for rank in 1..<worldSize { _ = try CurveKeyPair.generate().write(prefix: directory + "/ranks/rank-\(rank)") }
        return directory
    }

    /// This rank's CURVE settings from the key directory.
    private func groupCurve(_ directory: String) throws -> GroupCurve {
        if rank == 0 {
            return .leader(keyPair: try .load(secretKeyFile: directory + "/leader.key"), authorizedKeys: try .load(directory + "/ranks"))
        }
        return .follower(
            keyPair: try .load(secretKeyFile: directory + "/ranks/rank-\(rank).key"),
            leaderPublicKey: try CurveKeyPair.loadPublicKey(directory + "/leader.pub"))
    }

    /// The `radixserve` arguments of spawned rank `rank`: these flags, the rank, the group's
    /// `rendezvous`, and `parent` (rank 0's process) to watch.
    package func childArguments(rank: Int, rendezvous: String, parent: Int32) -> [String] {
        ["collectives", "bench", "--tp", "\(worldSize)", "--transport", medium, "--sizes", sizes,
         "--bytes-per-size", "\(bytesPerSize)", "--rank", "\(rank)", "--rendezvous", rendezvous]
            + ["--parent-pid", "\(parent)", sharedMemory ? "--shared-memory" : "--no-shared-memory"]
    }
}
