// RadixServe: a follower rank as a service, so SIGINT/SIGTERM stop it between two steps.

import Backends
import Foundation
import ServiceLifecycle
import Synchronization

/// `radixserve rank` as a service: joins the group and follows the leader on a thread of its
/// own (the follower blocks on its sockets), until the leader says shutdown or the group shuts
/// down gracefully; then it stops after the step it runs, before the next message (the leader
/// sends one at least every heartbeat), and closes its sockets, so the leader sees the rank gone.
public final class TensorParallelRankService: Service, Sendable {
    private let configuration: TensorParallelConfiguration
    private let directory: URL
    private let backend: BackendBox
    private let isStopping = Atomic(false)

    /// A service for the follower rank `configuration.rank` on `backend`.
    public init(_ configuration: TensorParallelConfiguration, directory: URL, backend: sending any ComputeBackend) {
        self.configuration = configuration
        self.directory = directory
        self.backend = BackendBox(backend)
    }

    /// - Throws: ``TensorParallelError`` naming the rank when the group cannot form or fails.
    public func run() async throws {
        let backend = backend
        try await withGracefulShutdownHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let thread = Thread { [self] in
                    do {
                        try TensorParallelFollower.serve(
                            configuration, directory: directory, backend: backend.take(),
                            isStopping: { isStopping.load(ordering: .relaxed) })
                        continuation.resume()
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.start()
            }
        } onGracefulShutdown: { [self] in
            isStopping.store(true, ordering: .relaxed)
        }
    }
}

/// Hands a backend to the follower's thread once.
private final class BackendBox: @unchecked Sendable {
    // @unchecked: written in `init`, taken once by the one thread that runs the follower
    // (``TensorParallelRankService/run()`` runs once).
    private var backend: (any ComputeBackend)?

    init(_ backend: sending any ComputeBackend) {
        self.backend = backend
    }

    func take() -> sending any ComputeBackend {
        guard let taken = backend else { preconditionFailure("a rank service runs once") }
        backend = nil
        return taken
    }
}
