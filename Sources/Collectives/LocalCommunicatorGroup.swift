// Shared rendezvous state behind the in-process communicators of one group.
import Foundation

/// The shared half of an in-process group: hands out one ``LocalCommunicator`` per rank and
/// matches their contributions call by call.
///
/// Thread-safe (`Sendable`): create it anywhere, pass it to the rank threads, and let each
/// thread call ``makeCommunicator(rank:)`` for its own rank, so each communicator is born on
/// the thread that uses it.
public final class LocalCommunicatorGroup: @unchecked Sendable {
    // @unchecked Sendable: every mutable property below is read and written only while
    // `condition` is locked.

    struct Contribution: Sendable {
        var operation: CollectiveOperation
        var root: Int
        var floats: [Float]
        var bytes: [UInt8]
    }

    private struct Round {
        var contributions: [Contribution?]
        var readerCount = 0
    }

    /// Number of ranks.
    public let worldSize: Int
    /// Initial ``Communicator/timeout`` of the communicators made by this group.
    public let timeout: Duration

    private let condition = NSCondition()
    private var rounds: [UInt64: Round] = [:]
    private var claimedRanks: Set<Int> = []
    private var closedRanks: Set<Int> = []
    private var firstFailure: (rank: Int, description: String)?

    init(worldSize: Int, timeout: Duration) {
        precondition(worldSize >= 1, "worldSize must be positive")
        self.worldSize = worldSize
        self.timeout = timeout
    }

    /// Creates the communicator for `rank`. Call once per rank, on the thread that will use it.
    public func makeCommunicator(rank: Int) -> LocalCommunicator {
        precondition((0..<worldSize).contains(rank), "rank \(rank) outside 0..<\(worldSize)")
        condition.lock()
        let isNew = claimedRanks.insert(rank).inserted
        condition.unlock()
        precondition(isNew, "rank \(rank) already has a communicator")
        return LocalCommunicator(group: self, rank: rank)
    }

    /// Posts `contribution` for call number `sequence` and waits until every rank has posted
    /// its own, a peer has failed or closed, or `deadline` passes. Returns all contributions in
    /// rank order.
    func exchange(
        _ contribution: Contribution, rank: Int, sequence: UInt64, deadline: Deadline
    ) throws -> [Contribution] {
        let operation = contribution.operation.name
        let wakeUp = Date(timeIntervalSinceNow: Double(deadline.remaining.components.seconds)
            + Double(deadline.remaining.components.attoseconds) / 1e18)
        condition.lock()
        defer { condition.unlock() }
        rounds[sequence, default: Round(contributions: Array(repeating: nil, count: worldSize))]
            .contributions[rank] = contribution
        condition.broadcast()
        while true {
            let round = rounds[sequence]!
            if let missing = round.contributions.firstIndex(where: { $0 == nil }) {
                if let failure = firstFailure, failure.rank != rank {
                    throw CollectivesError(
                        code: .peerClosed, message: "rank \(failure.rank) failed: \(failure.description)",
                        operation: operation, peer: failure.rank)
                }
                if let closed = closedRanks.first(where: { round.contributions[$0] == nil }) {
                    throw CollectivesError(
                        code: .peerClosed, message: "rank \(closed) closed its communicator",
                        operation: operation, peer: closed)
                }
                if !condition.wait(until: wakeUp), rounds[sequence]!.contributions[missing] == nil {
                    throw CollectivesError.timeout(operation, peer: missing, seconds: deadline.budgetSeconds)
                }
                continue
            }
            let contributions = round.contributions.map { $0! }
            if round.readerCount + 1 == worldSize {
                rounds[sequence] = nil
            } else {
                rounds[sequence]!.readerCount += 1
            }
            return contributions
        }
    }

    /// Records that `rank` failed, waking every waiter so the whole group fails fast.
    func recordFailure(rank: Int, error: CollectivesError) {
        condition.lock()
        if firstFailure == nil { firstFailure = (rank, error.description) }
        condition.broadcast()
        condition.unlock()
    }

    /// Records that `rank` will make no further calls.
    func markClosed(rank: Int) {
        condition.lock()
        closedRanks.insert(rank)
        condition.broadcast()
        condition.unlock()
    }
}
