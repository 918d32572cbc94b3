/// What a buffer holds; a backend may place each kind in a different memory (ggml's buffer types).
public enum BufferUsage: Sendable, Hashable {
    case weights
    case kvCache
    case compute
}

/// Memory owned by a device.
///
/// A buffer is created by ``ComputeBackend/allocate(byteCount:usage:)`` or
/// ``ComputeBackend/makeWeightBuffer(copying:owner:)`` and lives as long as any reference to it.
/// Not thread-safe: use from the thread that owns the backend.
public protocol DeviceBuffer: AnyObject {
    /// Size in bytes.
    var byteCount: Int { get }
    /// What the buffer was allocated for.
    var usage: BufferUsage { get }
    /// The buffer's address when the host can read and write it directly, else `nil`.
    /// Host-visible buffers are what the CPU and reference backends use.
    var hostAddress: UnsafeMutableRawPointer? { get }
}

/// Host memory: either allocated (64-byte aligned, zeroed, freed on deinit) or borrowed from an
/// owner such as a memory-mapped checkpoint, which is kept alive as long as the buffer is.
///
/// Not thread-safe on its own; the backend's owning thread reads and writes it.
public final class HostBuffer: DeviceBuffer {
    public let byteCount: Int
    public let usage: BufferUsage
    public let hostAddress: UnsafeMutableRawPointer?
    private let owner: AnyObject?
    private let isAllocated: Bool

    /// Allocates `byteCount` zeroed bytes aligned to 64 bytes; buffers of 2 MiB or more are mapped
    /// lazily and backed by huge pages where the kernel provides them (see ``HostMemory/allocate(byteCount:)``).
    public init(byteCount: Int, usage: BufferUsage) {
        precondition(byteCount >= 0, "negative buffer size")
        let pointer = HostMemory.allocate(byteCount: max(byteCount, 64))
        self.byteCount = byteCount
        self.usage = usage
        self.hostAddress = pointer
        self.owner = nil
        self.isAllocated = true
    }

    /// Borrows `bytes` without copying; `owner` keeps the memory alive.
    /// The caller promises the memory is not written through other paths while this buffer is used.
    public init(borrowing bytes: UnsafeRawBufferPointer, owner: AnyObject?, usage: BufferUsage) {
        self.byteCount = bytes.count
        self.usage = usage
        self.hostAddress = UnsafeMutableRawPointer(mutating: bytes.baseAddress)
        self.owner = owner
        self.isAllocated = false
    }

    deinit {
        if isAllocated, let hostAddress { HostMemory.deallocate(hostAddress, byteCount: max(byteCount, 64)) }
    }
}
