// The collective-communication contract shared by every tensor-parallel rank.

/// A fixed group of `worldSize` ranks that perform collectives in lock-step, like an NCCL
/// communicator.
///
/// Contract for every implementation:
/// - **Thread confinement.** Not thread-safe and not `Sendable`: each rank's communicator is
///   created, used and dropped on one thread (the engine thread). Calls block that thread.
/// - **Lock-step.** Every rank makes the same sequence of calls with matching arguments (same
///   operation, element count and root). A mismatch is detected where possible and reported as
///   ``CollectivesError/Code-swift.struct/sizeMismatch`` or
///   ``CollectivesError/Code-swift.struct/protocolViolation``, never as silent corruption.
/// - **Bounded waits.** Every call finishes or throws within ``timeout`` (plus scheduling noise);
///   a dead, closed or silent peer becomes an error naming the operation and the peer, never a hang.
/// - **Poisoning.** After any error the communicator is unusable: ``failure`` is set and every
///   later call throws ``CollectivesError/Code-swift.struct/poisoned`` at once. Where the transport
///   allows, peers are told so they fail fast too. Tear the group down and build a new one.
/// - **Determinism.** ``allReduceSum(_:)`` leaves bitwise-identical results on every rank, so
///   ranks that feed the result into further computation stay in lock-step.
/// - **Buffers** are borrowed for the duration of the call only; none may alias another.
public protocol Communicator: AnyObject {
    /// This rank, in `0..<worldSize`.
    var rank: Int { get }
    /// Number of ranks in the group (≥ 1).
    var worldSize: Int { get }
    /// Upper bound for each call, measured from its start. Default 30 seconds.
    var timeout: Duration { get set }
    /// The error that poisoned this communicator, or `nil` while it is healthy.
    var failure: CollectivesError? { get }

    /// Replaces `buffer` on every rank with the element-wise sum of all ranks' buffers.
    /// All ranks pass the same count; the result is bitwise identical on every rank.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws

    /// Concatenates every rank's `send` in rank order into `output` (rank-major:
    /// `output[r * send.count ..< (r + 1) * send.count]` is rank r's chunk).
    /// Precondition: `output.count == send.count * worldSize`; all ranks pass equal counts.
    func allGather(send: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) throws

    /// Copies `bytes` of rank `root` to every other rank, whose arrays are replaced (any size,
    /// including empty). Meant for small control payloads such as the step plan.
    func broadcast(_ bytes: inout [UInt8], root: Int) throws

    /// Copies rank `root`'s `buffer` into every other rank's `buffer`; all counts must match.
    func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws

    /// Returns only after every rank has entered the barrier.
    func barrier() throws
}

extension Communicator {
    /// Convenience for arrays; see ``allReduceSum(_:)-(UnsafeMutableBufferPointer<Float>)``.
    public func allReduceSum(_ values: inout [Float]) throws {
        try values.withUnsafeMutableBufferPointer { try allReduceSum($0) }
    }

    /// Convenience for arrays; returns the rank-major concatenation of every rank's `values`.
    public func allGather(_ values: [Float]) throws -> [Float] {
        var output = [Float](repeating: 0, count: values.count * worldSize)
        try values.withUnsafeBufferPointer { send in
            try output.withUnsafeMutableBufferPointer { try allGather(send: send, into: $0) }
        }
        return output
    }

    /// Convenience for arrays; see ``broadcast(_:root:)-(UnsafeMutableBufferPointer<Float>,_)``.
    public func broadcast(_ values: inout [Float], root: Int) throws {
        try values.withUnsafeMutableBufferPointer { try broadcast($0, root: root) }
    }
}
