// Same-host fast path for small all-reduces: one POSIX shared-memory segment for the group.
import CIntrinsics

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Mailboxes in one shared-memory segment mapped by every rank of a group on one host.
///
/// Layout: per rank, two slots (`index & 1`), each a 64-byte header (the publication index as a
/// u64, then the byte count) followed by `capacity` payload bytes. A rank publishes its `k`-th
/// message by copying the payload into slot `k & 1` and storing `k` with release ordering; a
/// reader spins until it loads `k` with acquire ordering. Two slots suffice because publications
/// are lock-step: a rank publishes `k + 2` only after it has read every peer's `k + 1`, which each
/// peer publishes only after it has finished reading message `k`.
///
/// Rank 0 creates the segment and unlinks its name once every rank has mapped it, so the memory
/// disappears with the last process, even one that is killed.
final class SharedMemoryMailboxes {
    static let headerBytes = 64

    let worldSize: Int
    let capacity: Int
    private let base: UnsafeMutableRawPointer
    private let byteCount: Int
    private let slotBytes: Int

    /// A slot: the header, then the payload rounded up to whole cache lines.
    static func slotBytes(capacity: Int) -> Int { headerBytes + (capacity + 63) / 64 * 64 }

    static func byteCount(worldSize: Int, capacity: Int) -> Int { worldSize * 2 * slotBytes(capacity: capacity) }

    /// Creates (`create`) or opens the segment `name` (`/radixserve-…`).
    init(name: String, create: Bool, worldSize: Int, capacity: Int) throws {
        self.worldSize = worldSize
        self.capacity = capacity
        slotBytes = Self.slotBytes(capacity: capacity)
        byteCount = Self.byteCount(worldSize: worldSize, capacity: capacity)
        let descriptor = create ? shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0o600) : shm_open(name, O_RDWR, 0)
        guard descriptor >= 0 else { throw Self.failure("shm_open(\(name))") }
        defer { close(descriptor) }
        if create, ftruncate(descriptor, off_t(byteCount)) != 0 {
            let error = Self.failure("ftruncate(\(name), \(byteCount))")
            shm_unlink(name)
            throw error
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0, Int(status.st_size) == byteCount else {
            throw CollectivesError(
                code: .invalidConfiguration, message: "shared memory \(name) has the wrong size", operation: "bootstrap")
        }
        guard let mapped = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0), mapped != MAP_FAILED else {
            throw Self.failure("mmap(\(name))")
        }
        base = mapped
    }

    deinit {
        munmap(base, byteCount)
    }

    private func slot(rank: Int, index: UInt64) -> UnsafeMutableRawPointer {
        base + (rank * 2 + Int(index & 1)) * slotBytes
    }

    /// Copies `payload` into `rank`'s slot for message `index` and publishes it.
    func publish(rank: Int, index: UInt64, payload: UnsafeRawBufferPointer) {
        precondition(payload.count <= capacity, "mailbox payload over capacity")
        let slot = slot(rank: rank, index: index)
        if let source = payload.baseAddress { (slot + Self.headerBytes).copyMemory(from: source, byteCount: payload.count) }
        slot.storeBytes(of: UInt64(payload.count), toByteOffset: 8, as: UInt64.self)
        radixserve_store_release(slot.assumingMemoryBound(to: UInt64.self), index)
    }

    /// `rank`'s message `index` (bytes valid until that rank publishes `index + 2`), or `nil` if it
    /// is not published yet.
    func message(rank: Int, index: UInt64) -> UnsafeRawBufferPointer? {
        let slot = slot(rank: rank, index: index)
        guard radixserve_load_acquire(slot.assumingMemoryBound(to: UInt64.self)) == index else { return nil }
        let count = Int(slot.load(fromByteOffset: 8, as: UInt64.self))
        return UnsafeRawBufferPointer(start: slot + Self.headerBytes, count: min(count, capacity))
    }

    private static func failure(_ call: String) -> CollectivesError {
        CollectivesError(
            code: .transport, message: "\(call) failed: \(String(cString: strerror(errno)))", operation: "bootstrap")
    }
}
