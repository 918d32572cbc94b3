// Communicator between processes (or threads) over ZeroMQ sockets.
import Transport

/// One rank of a group connected by ZeroMQ: `ipc://` on one host, `tcp://` across hosts.
///
/// Topology: a full mesh of exclusive `PAIR` sockets, one per pair of ranks (the lower rank
/// binds, the higher connects). Per-peer sockets keep every peer's frames in order on their own
/// queue, so a rank can receive a payload straight into the tensor without identity frames,
/// demultiplexing or buffering of early messages from a faster peer; `PAIR` also refuses a
/// second connection, so nothing else can inject frames into an established group. The ring
/// uses the left and right sockets; small tensors use direct exchange over the whole mesh.
///
/// Algorithms (`n` floats, `N` ranks):
/// - ``allReduceSum(_:)``: on one host (`ipc://`), if `4n ≤ directThresholdBytes`, every rank
///   publishes its buffer in a shared-memory mailbox and sums all of them in rank order
///   (``SharedMemoryMailboxes``: ≈ 1.5 µs for 4 KB instead of ≈ 40 µs through ZeroMQ's I/O threads).
///   Otherwise, if `4n ≤ directThresholdBytes`, every rank sends its buffer to
///   every peer and sums in rank order `((x0 + x1) + x2) …`; otherwise ring reduce-scatter then
///   ring all-gather over chunks of `⌈n/N⌉` (the last one ragged), where each chunk's final sum is
///   computed by one rank and copied to the others. Both give bitwise-identical results on all
///   ranks.
/// - ``allGather(send:into:)``, ``barrier()`` and broadcasts: direct exchange (each rank sends
///   `(N-1)·chunk` bytes, the same as a ring, in one round instead of `N-1`).
///
/// Every message is a 16-byte ``FrameHeader`` frame plus a raw payload frame; the header
/// carries the call's sequence number, operation, root and count, so lost lock-step and
/// mismatched sizes are reported instead of corrupting tensors. A failing or closing rank sends
/// an `abort` frame to its peers, so they fail at once instead of at their timeout; a rank whose
/// process died is detected by the per-call timeout.
///
/// Not thread-safe: create it with ``connect(rank:worldSize:rendezvous:fingerprint:timeout:bootstrapTimeout:dataEndpoint:context:)``
/// on the thread that will use it and keep it there.
public final class SocketCommunicator: Communicator {
    public let rank: Int
    public let worldSize: Int
    public var timeout: Duration
    public private(set) var failure: CollectivesError?

    /// All-reduce payloads up to this many bytes use direct exchange, larger ones the ring.
    /// Default 64 KiB; see the benchmark for how it was chosen. All ranks must use the same value.
    public var directThresholdBytes: Int = 64 * 1024

    let context: ZMQContext
    /// Rank 0 with CURVE: the ZAP handler admitting the group's ranks, for as long as the sockets live.
    var authenticator: ZAPAuthenticator?
    /// Same-host mailboxes for direct all-reduces (``SharedMemoryMailboxes``), when every rank mapped them.
    var mailboxes: SharedMemoryMailboxes?
    /// Number of all-reduces that went through the mailboxes.
    var mailboxIndex: UInt64 = 0
    /// Data socket per peer rank; `nil` at `rank` and after ``close()``.
    var peers: [ZMQSocket?]
    /// Number of the current collective call, stamped on every frame.
    var sequence: UInt32 = 0
    /// The collective in progress, for error messages.
    var currentOperation: CollectiveOperation = .hello
    private(set) var scratch: UnsafeMutableBufferPointer<Float> = .init(start: nil, count: 0)

    init(rank: Int, worldSize: Int, timeout: Duration, context: ZMQContext, peers: [ZMQSocket?]) {
        self.rank = rank
        self.worldSize = worldSize
        self.timeout = timeout
        self.context = context
        self.peers = peers
    }

    deinit {
        close()
        scratch.deallocate()
    }

    /// How long a closed rank's goodbye may wait to be sent. The peers rely on it to fail fast;
    /// on a loaded host the ZeroMQ I/O thread that sends it can be kept off a core for a while.
    /// It only delays the end of a context whose peers are gone.
    static let closeLinger = Duration.seconds(3)

    /// How often a blocked send looks for a departed peer's goodbye. Longer than ZeroMQ's 100 ms
    /// reconnect interval, so a connection that drops and comes back is normally back before its
    /// unread frames are taken for a departed peer's (if not, the lost frames surface as a lock-step
    /// violation or a timeout, never as wrong sums: every frame carries its call's sequence).
    static let goodbyeCheckInterval = Duration.milliseconds(250)

    /// Tells the peers this rank is leaving (they fail fast with ``CollectivesError/Code-swift.struct/peerClosed``
    /// if they wait on it later) and closes the sockets. Idempotent; later calls throw `.poisoned`.
    public func close() {
        guard peers.contains(where: { $0 != nil }) else { return }
        if failure == nil {
            failure = CollectivesError(
                code: .peerClosed, message: "rank \(rank) was closed", operation: "close", peer: rank)
            sendAbort(reason: "rank \(rank) closed its communicator")
        }
        mailboxes = nil
        authenticator?.stop()
        authenticator = nil
        for index in peers.indices {
            peers[index]?.setLingerOnClose(Self.closeLinger)
            peers[index]?.close()
            peers[index] = nil
        }
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try perform(.allReduceSum) { deadline in
            guard worldSize > 1 else { return }
            switch allReduceAlgorithm(byteCount: buffer.count * MemoryLayout<Float>.size) {
            case .sharedMemory: try sharedMemoryAllReduce(buffer, mailboxes: mailboxes!, deadline: deadline)
            case .direct: try directAllReduce(buffer, deadline: deadline)
            case .ring: try ringAllReduce(buffer, deadline: deadline)
            }
        }
    }

    public func allGather(send: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) throws {
        precondition(output.count == send.count * worldSize, "allGather output must hold worldSize chunks")
        try perform(.allGather) { deadline in
            let chunk = send.count
            for peer in otherRanks {
                try sendMessage(.allGather, count: UInt64(chunk), payload: UnsafeRawBufferPointer(send), to: peer, deadline: deadline)
            }
            if chunk > 0 {
                (output.baseAddress! + rank * chunk).update(from: send.baseAddress!, count: chunk)
            }
            for peer in otherRanks {
                try receiveHeader(.allGather, count: UInt64(chunk), from: peer, deadline: deadline)
                let slice = UnsafeMutableBufferPointer(rebasing: output[(peer * chunk)..<((peer + 1) * chunk)])
                try receivePayload(into: UnsafeMutableRawBufferPointer(slice), from: peer, deadline: deadline)
            }
        }
    }

    public func broadcast(_ bytes: inout [UInt8], root: Int) throws {
        precondition((0..<worldSize).contains(root), "root \(root) outside 0..<\(worldSize)")
        try perform(.broadcastBytes) { deadline in
            if rank == root {
                for peer in otherRanks {
                    try bytes.withUnsafeBytes {
                        try sendMessage(.broadcastBytes, root: root, count: UInt64($0.count), payload: $0, to: peer, deadline: deadline)
                    }
                }
            } else {
                let header = try receiveHeader(.broadcastBytes, root: root, count: nil, from: root, deadline: deadline)
                bytes = try receivePayload(from: root, deadline: deadline) { payload in
                    guard payload.count == header.count else {
                        throw sizeMismatch(.broadcastBytes, peer: root, theirs: payload.count, ours: header.count)
                    }
                    return Array(payload)
                }
            }
        }
    }

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {
        precondition((0..<worldSize).contains(root), "root \(root) outside 0..<\(worldSize)")
        try perform(.broadcastFloats) { deadline in
            if rank == root {
                for peer in otherRanks {
                    try sendMessage(
                        .broadcastFloats, root: root, count: UInt64(buffer.count),
                        payload: UnsafeRawBufferPointer(buffer), to: peer, deadline: deadline)
                }
            } else {
                try receiveHeader(.broadcastFloats, root: root, count: UInt64(buffer.count), from: root, deadline: deadline)
                try receivePayload(into: UnsafeMutableRawBufferPointer(buffer), from: root, deadline: deadline)
            }
        }
    }

    public func barrier() throws {
        try perform(.barrier) { deadline in
            for peer in otherRanks {
                try sendMessage(.barrier, count: 0, payload: UnsafeRawBufferPointer(start: nil, count: 0), to: peer, deadline: deadline)
            }
            for peer in otherRanks {
                try receiveHeader(.barrier, count: 0, from: peer, deadline: deadline)
                try receivePayload(into: UnsafeMutableRawBufferPointer(start: nil, count: 0), from: peer, deadline: deadline)
            }
        }
    }

    /// How ``allReduceSum(_:)`` exchanges a buffer.
    public enum AllReduceAlgorithm: String, Sendable {
        case sharedMemory = "shared-memory"
        case direct
        case ring
    }

    /// The algorithm ``allReduceSum(_:)`` uses for `byteCount` bytes.
    public func allReduceAlgorithm(byteCount: Int) -> AllReduceAlgorithm {
        if let mailboxes, byteCount <= mailboxes.capacity { return .sharedMemory }
        return byteCount <= directThresholdBytes ? .direct : .ring
    }

    /// Whether small all-reduces go through same-host shared memory.
    public var usesSharedMemory: Bool { mailboxes != nil }

    // MARK: - Shared machinery

    var otherRanks: some Sequence<Int> {
        let rank = rank
        return (0..<worldSize).lazy.filter { $0 != rank }
    }

    /// Runs one collective: refuses when poisoned, stamps a new sequence number, and poisons
    /// the communicator (telling the peers) if the body throws.
    func perform(_ operation: CollectiveOperation, _ body: (Deadline) throws -> Void) throws {
        if let failure { throw CollectivesError.poisoned(by: failure, operation: operation.name) }
        sequence &+= 1
        currentOperation = operation
        do {
            try body(Deadline(timeout))
        } catch let error as CollectivesError {
            failure = error
            sendAbort(reason: error.description)
            throw error
        }
    }

    /// A scratch area of at least `count` floats, reused across calls.
    func scratch(count: Int) -> UnsafeMutableBufferPointer<Float> {
        if scratch.count < count {
            scratch.deallocate()
            scratch = .allocate(capacity: count)
        }
        return scratch
    }
}
