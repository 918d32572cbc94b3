// RadixServe: the process group of a tensor-parallel leader.

import Backends
import Foundation
import Logging
import ProcessLifecycle

/// The other ranks of the tensor-parallel group this process leads (`generate --tp N`,
/// `worker --tp N`), and where they meet rank 0.
///
/// Ranks 1..<N are spawned as child processes of this executable with an `ipc://` rendezvous in a
/// fresh temporary directory, unless an endpoint is given for ranks started by hand.
/// Call ``finish()`` once rank 0 has shut its leader down (directly or through the engine loop).
public final class TensorParallelRanks {
    /// The endpoint rank 0 binds and the other ranks connect to.
    public let rendezvous: String
    private let children: ChildProcessGroup?
    private let socketDirectory: URL?

    /// Starts ranks 1..<`size` as child processes of this executable with the arguments
    /// `rankArguments(rank, rendezvous)` (the `rank` subcommand), or, with `endpoint`, spawns
    /// nothing and has rank 0 bind `endpoint` for ranks started by hand. With `handlesSignals`,
    /// SIGINT and SIGTERM kill the children and exit at once; without, the caller shuts down on its
    /// own terms (the children still exit when this process dies, through their parent watchdog).
    public init(
        size: Int, endpoint: String?, handlesSignals: Bool, rankArguments: (_ rank: Int, _ rendezvous: String) -> [String]
    ) throws {
        if let endpoint {
            rendezvous = endpoint
            children = nil
            socketDirectory = nil
        } else if size > 1 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rxs-tp-\(UUID().uuidString.prefix(8))")
            // Only this user can enter it, so no other local user can reach the group's sockets.
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            socketDirectory = directory
            let rendezvous = "ipc://\(directory.path)/rendezvous"
            self.rendezvous = rendezvous
            do {
                children = try ChildProcessGroup(size: size, killsOnSignal: handlesSignals) { rankArguments($0, rendezvous) }
            } catch {
                try? FileManager.default.removeItem(at: directory)
                throw error
            }
            let logger = Logger(label: "radixserve")
            for (index, pid) in children!.pids.enumerated() {
                logger.info("started tensor-parallel rank \(index + 1) as pid \(pid)")
            }
        } else {
            rendezvous = "ipc://\(FileManager.default.temporaryDirectory.path)/rxs-tp-\(UUID().uuidString.prefix(8))"
            children = nil
            socketDirectory = nil
        }
    }

    /// Compute threads of each rank of a group of `size` on this host: `requested` when positive,
    /// else the cores shared evenly between the ranks (at least one).
    public static func threadsPerRank(requested: Int, size: Int) -> Int {
        requested > 0 ? requested : max(1, ProcessInfo.processInfo.activeProcessorCount / size)
    }

    /// Joins the group as rank 0 (`configuration.rank` is 0, its rendezvous ``rendezvous``) with the
    /// checkpoint in `directory` on `backend`, and returns its leader; the caller owns it and must
    /// shut it down.
    /// - Throws: ``TensorParallelError`` naming rank 0 when the group cannot form, or the model's errors.
    public func joinAsLeader(
        _ configuration: TensorParallelConfiguration, directory: URL, backend: sending any ComputeBackend
    ) throws -> sending TensorParallelLeader {
        do {
            return TensorParallelLeader(try TensorParallelBootstrap.join(configuration, directory: directory, backend: backend))
        } catch let error as TensorParallelError {
            throw TensorParallelError(error.code, "rank 0: \(error.message)")
        }
    }

    /// Waits up to five seconds for the child ranks to exit (killing stragglers) and removes the
    /// rendezvous directory. Idempotent.
    public func finish() {
        children?.finish(grace: .seconds(5))
        if let socketDirectory { try? FileManager.default.removeItem(at: socketDirectory) }
    }
}
