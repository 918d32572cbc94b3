// Same-host shared-memory all-reduce: setup after the handshake, and the lock-step exchange.
import CIntrinsics
import Transport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SocketCommunicator {
    /// Rank 0 creates a segment and sends its name to every peer; each peer maps it and answers
    /// whether it could; rank 0 unlinks the name and tells everyone the verdict. All ranks then use
    /// the mailboxes, or none does (for example when a peer runs on another host and cannot open
    /// the segment, or `/dev/shm` is unavailable).
    func attachSharedMemory(deadline: Deadline) throws {
        currentOperation = .sharedMemory
        let capacity = directThresholdBytes
        if rank == 0 {
            let name = "/radixserve-\(getpid())-\(UInt32.random(in: .min ... .max))"
            let created = try? SharedMemoryMailboxes(name: name, create: true, worldSize: worldSize, capacity: capacity)
            var verdict: UInt64 = created == nil ? 0 : 1
            for peer in otherRanks {
                try Array(name.utf8).withUnsafeBytes {
                    try sendMessage(.sharedMemory, count: verdict == 0 ? 0 : UInt64(capacity), payload: $0, to: peer, deadline: deadline)
                }
            }
            for peer in otherRanks {
                let answer = try receiveHeader(.sharedMemory, count: nil, from: peer, deadline: deadline)
                try receivePayload(into: UnsafeMutableRawBufferPointer(start: nil, count: 0), from: peer, deadline: deadline)
                if answer.count != 1 { verdict = 0 }
            }
            if created != nil { shm_unlink(name) }
            for peer in otherRanks {
                try sendMessage(.sharedMemory, count: verdict, payload: UnsafeRawBufferPointer(start: nil, count: 0), to: peer, deadline: deadline)
            }
            mailboxes = verdict == 1 ? created : nil
        } else {
            let offer = try receiveHeader(.sharedMemory, count: nil, from: 0, deadline: deadline)
            let name = try receivePayload(from: 0, deadline: deadline) { String(decoding: $0, as: UTF8.self) }
            let opened = offer.count == UInt64(capacity)
                ? try? SharedMemoryMailboxes(name: name, create: false, worldSize: worldSize, capacity: capacity) : nil
            try sendMessage(
                .sharedMemory, count: opened == nil ? 0 : 1, payload: UnsafeRawBufferPointer(start: nil, count: 0), to: 0,
                deadline: deadline)
            let verdict = try receiveHeader(.sharedMemory, count: nil, from: 0, deadline: deadline)
            try receivePayload(into: UnsafeMutableRawBufferPointer(start: nil, count: 0), from: 0, deadline: deadline)
            mailboxes = verdict.count == 1 ? opened : nil
        }
    }

    /// Direct all-reduce through the mailboxes: every rank publishes its buffer, then sums all
    /// buffers in rank order (``sumInRankOrder(_:take:)``, as over sockets).
    func sharedMemoryAllReduce(
        _ buffer: UnsafeMutableBufferPointer<Float>, mailboxes: SharedMemoryMailboxes, deadline: Deadline
    ) throws {
        let count = buffer.count
        let bytes = UnsafeMutableRawBufferPointer(buffer)
        mailboxIndex &+= 1
        let index = mailboxIndex
        mailboxes.publish(rank: rank, index: index, payload: UnsafeRawBufferPointer(bytes))
        try sumInRankOrder(buffer) { source in
            let message = try awaitMailbox(of: source, index: index, count: count, deadline: deadline)
            guard count > 0 else { return }
            if source == 0 {
                bytes.baseAddress!.copyMemory(from: message.baseAddress!, byteCount: message.count)
            } else {
                addFloats(into: buffer.baseAddress!, from: message.baseAddress!, count: count)
            }
        }
    }

    /// Spins, then yields, then sleeps until `source` publishes message `index`. A frame on `source`'s socket
    /// meanwhile can only be an abort or garbage (a rank publishes before it moves on), and is
    /// turned into the matching error; silence past the deadline is a timeout.
    private func awaitMailbox(of source: Int, index: UInt64, count: Int, deadline: Deadline) throws -> UnsafeRawBufferPointer {
        var spins = 0
        while true {
            if let message = mailboxes!.message(rank: source, index: index) {
                guard message.count == count * MemoryLayout<Float>.size else {
                    throw sizeMismatch(.allReduceSum, peer: source, theirs: message.count / 4, ours: count)
                }
                return message
            }
            spins &+= 1
            if spins < Self.busySpins {
                radixserve_spin_pause()
                continue
            }
            // Then yield the core for a while, then sleep: a rank that waits long (its peer samples,
            // or is stuck) must not burn a core other processes need.
            if spins < Self.busySpins + Self.yieldingSpins { sched_yield() } else { usleep(50) }
            guard spins % 64 == 0 else { continue }
            if peers[source]?.isReadable == true, mailboxes!.message(rank: source, index: index) == nil {
                try receiveHeader(.allReduceSum, count: UInt64(count), from: source, deadline: deadline)
                throw violation(.allReduceSum, peer: source, "rank \(source) sent a socket frame during a shared-memory all-reduce")
            }
            if deadline.remaining == .zero {
                throw CollectivesError.timeout(
                    CollectiveOperation.allReduceSum.name, peer: source, seconds: deadline.budgetSeconds,
                    detail: "its shared-memory message #\(index) never arrived")
            }
        }
    }

    /// Pause-spins before a waiting rank starts yielding its core (≈ 50–100 µs).
    static let busySpins = 2_000
    /// Yields before it sleeps in 50 µs steps (≈ 1–2 ms).
    static let yieldingSpins = 2_000
}
