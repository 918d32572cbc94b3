import BackendCatalog
import Backends
import Engine
import Foundation
import Logging
import ProcessLogging

/// The other ranks of the tensor-parallel group this process leads (`generate --tp N`,
/// `worker --tp N`), and where they meet rank 0.
///
/// Ranks 1..<N are spawned as child `radixserve rank` processes with an `ipc://` rendezvous in a
/// fresh temporary directory, unless `--tp-endpoint` names an endpoint for ranks started by hand.
/// Call ``finish()`` once rank 0 has shut its leader down (directly or through the engine loop).
final class TensorParallelRanks {
    /// The endpoint rank 0 binds and the other ranks connect to.
    let rendezvous: String
    private let options: TensorParallelOptions
    private let children: ChildProcessGroup?
    private let socketDirectory: URL?

    /// Starts the child ranks for a model run with `modelOptions`. With `handlesSignals`, SIGINT and
    /// SIGTERM kill the children and exit at once; without, the caller shuts down on its own terms
    /// (the children still exit when this process dies, through their parent watchdog).
    init(options: TensorParallelOptions, modelOptions: ModelOptions, handlesSignals: Bool) throws {
        self.options = options
        let threads = options.threadsPerRank(requested: modelOptions.threads)
        if let endpoint = options.tpEndpoint {
            rendezvous = endpoint
            children = nil
            socketDirectory = nil
        } else if options.size > 1 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rxs-tp-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            socketDirectory = directory
            let rendezvous = "ipc://\(directory.path)/rendezvous"
            self.rendezvous = rendezvous
            let parent = getpid()
            do {
                children = try ChildProcessGroup(size: options.size, handlesSignals: handlesSignals) { rank in
                    ["rank", "--rank", "\(rank)", "--tp", "\(options.size)", "--leader", rendezvous,
                     "--model", modelOptions.model, "--backend", modelOptions.backend, "--threads", "\(threads)",
                     "--timeout", "\(options.tpTimeout)", "--parent-pid", "\(parent)",
                     "--log-level", ProcessLogging.level.rawValue]
                        + (options.tpReplicatedLMHead ? ["--replicated-lm-head"] : [])
                }
            } catch {
                try? FileManager.default.removeItem(at: directory)
                throw error
            }
            for (index, pid) in children!.pids.enumerated() {
                FileHandle.standardError.write(Data("radixserve: started tensor-parallel rank \(index + 1) as pid \(pid)\n".utf8))
            }
        } else {
            rendezvous = "ipc://\(FileManager.default.temporaryDirectory.path)/rxs-tp-\(UUID().uuidString.prefix(8))"
            children = nil
            socketDirectory = nil
        }
    }

    /// Joins the group as rank 0 and returns its leader; the caller owns it and must shut it down.
    /// - Throws: ``CommandFailure`` naming rank 0 when the group cannot form, or the model's errors.
    func joinAsLeader(modelOptions: ModelOptions, maxStepTokens: Int) throws -> sending TensorParallelLeader {
        let threads = options.threadsPerRank(requested: modelOptions.threads)
        let backend = try BackendCatalog.device(named: modelOptions.backend).makeBackend(threads: threads)
        do {
            return TensorParallelLeader(try TensorParallelBootstrap.join(
                options.configuration(rank: 0, rendezvous: rendezvous, maxStepTokens: maxStepTokens),
                directory: modelOptions.directory, backend: backend))
        } catch let error as TensorParallelError {
            throw CommandFailure(message: "rank 0: \(error.message)")
        }
    }

    /// Waits up to five seconds for the child ranks to exit (killing stragglers) and removes the
    /// rendezvous directory. Idempotent.
    func finish() {
        children?.finish(grace: .seconds(5))
        if let socketDirectory { try? FileManager.default.removeItem(at: socketDirectory) }
    }
}
