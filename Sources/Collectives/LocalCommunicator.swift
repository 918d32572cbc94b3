// In-process communicator for tests and single-process tensor parallelism.

/// One rank of an in-process group whose ranks run on separate threads of one process.
///
/// Same semantics as ``SocketCommunicator`` (see ``Communicator``): lock-step calls, per-call
/// timeout, poisoning, and a group that fails as a whole. Sums are taken in rank order
/// `((x0 + x1) + x2) + …`, so every rank gets bitwise-identical results.
///
/// Not thread-safe: use each communicator only on the thread that created it.
public final class LocalCommunicator: Communicator {
    public let rank: Int
    public let worldSize: Int
    public var timeout: Duration
    public private(set) var failure: CollectivesError?

    private let group: LocalCommunicatorGroup
    private var sequence: UInt64 = 0

    /// Creates the shared state of a group of `worldSize` ranks; each rank thread then calls
    /// ``LocalCommunicatorGroup/makeCommunicator(rank:)``.
    public static func makeGroup(worldSize: Int, timeout: Duration = .seconds(30)) -> LocalCommunicatorGroup {
        LocalCommunicatorGroup(worldSize: worldSize, timeout: timeout)
    }

    init(group: LocalCommunicatorGroup, rank: Int) {
        self.group = group
        self.rank = rank
        self.worldSize = group.worldSize
        self.timeout = group.timeout
    }

    deinit { group.markClosed(rank: rank) }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        let all = try exchange(.allReduceSum, root: 0, floats: Array(buffer))
        try requireEqualCounts(all, operation: .allReduceSum, { $0.floats.count })
        guard !buffer.isEmpty else { return }
        all[0].floats.withUnsafeBufferPointer { first in
            _ = buffer.update(fromContentsOf: first)
        }
        for contribution in all.dropFirst() {
            contribution.floats.withUnsafeBytes { source in
                addFloats(into: buffer.baseAddress!, from: source.baseAddress!, count: buffer.count)
            }
        }
    }

    public func allGather(send: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) throws {
        precondition(output.count == send.count * worldSize, "allGather output must hold worldSize chunks")
        let all = try exchange(.allGather, root: 0, floats: Array(send))
        try requireEqualCounts(all, operation: .allGather, { $0.floats.count })
        for (peer, contribution) in all.enumerated() {
            _ = UnsafeMutableBufferPointer(rebasing: output[(peer * send.count)..<((peer + 1) * send.count)])
                .update(fromContentsOf: contribution.floats)
        }
    }

    public func broadcast(_ bytes: inout [UInt8], root: Int) throws {
        precondition((0..<worldSize).contains(root), "root \(root) outside 0..<\(worldSize)")
        let all = try exchange(.broadcastBytes, root: root, bytes: rank == root ? bytes : [])
        bytes = all[root].bytes
    }

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {
        precondition((0..<worldSize).contains(root), "root \(root) outside 0..<\(worldSize)")
        let all = try exchange(.broadcastFloats, root: root, floats: Array(buffer))
        try requireEqualCounts(all, operation: .broadcastFloats, { $0.floats.count })
        if rank != root { _ = buffer.update(fromContentsOf: all[root].floats) }
    }

    public func barrier() throws {
        _ = try exchange(.barrier, root: 0)
    }

    /// Marks this rank closed now instead of at deinit; peers still waiting on it fail with
    /// ``CollectivesError/Code-swift.struct/peerClosed``.
    public func close() {
        group.markClosed(rank: rank)
    }

    // MARK: - Private

    private func exchange(
        _ operation: CollectiveOperation, root: Int, floats: [Float] = [], bytes: [UInt8] = []
    ) throws -> [LocalCommunicatorGroup.Contribution] {
        if let failure { throw CollectivesError.poisoned(by: failure, operation: operation.name) }
        sequence += 1
        do {
            let all = try group.exchange(
                .init(operation: operation, root: root, floats: floats, bytes: bytes),
                rank: rank, sequence: sequence, deadline: Deadline(timeout))
            if let other = all.firstIndex(where: { $0.operation != operation || $0.root != root }) {
                throw CollectivesError(
                    code: .protocolViolation,
                    message: "rank \(other) called \(all[other].operation.name) with root \(all[other].root) "
                        + "while rank \(rank) called \(operation.name) with root \(root)",
                    operation: operation.name, peer: other)
            }
            return all
        } catch let error as CollectivesError {
            poison(error)
            throw error
        }
    }

    private func requireEqualCounts(
        _ all: [LocalCommunicatorGroup.Contribution], operation: CollectiveOperation,
        _ count: (LocalCommunicatorGroup.Contribution) -> Int
    ) throws {
        let own = count(all[rank])
        if let other = all.indices.first(where: { count(all[$0]) != own }) {
            let error = CollectivesError(
                code: .sizeMismatch, message: "rank \(other) passed \(count(all[other])) elements, rank \(rank) \(own)",
                operation: operation.name, peer: other)
            poison(error)
            throw error
        }
    }

    private func poison(_ error: CollectivesError) {
        failure = error
        group.recordFailure(rank: rank, error: error)
    }
}
