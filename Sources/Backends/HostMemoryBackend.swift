/// A backend whose device computes on host memory (the CPU and reference backends).
/// Conforming gives buffer management for free: zeroed 64-byte-aligned allocations, weights
/// borrowed from memory-mapped checkpoints without a copy, and plain memcpy uploads and downloads.
/// Its step inputs stay on the host too: ``beginStep(_:)`` keeps the value (arrays are shared,
/// not copied) for the step ops to read.
public protocol HostMemoryBackend: ComputeBackend {
    /// The inputs of the current step (``ComputeBackend/beginStep(_:)``).
    var step: StepInputs { get set }
}

extension HostMemoryBackend {
    public func beginStep(_ inputs: StepInputs) throws {
        step = inputs
    }

    public func allocate(byteCount: Int, usage: BufferUsage) throws -> any DeviceBuffer {
        guard byteCount >= 0 else { throw BackendError(.invalidArgument, "negative allocation of \(byteCount) bytes") }
        return HostBuffer(byteCount: byteCount, usage: usage)
    }

    /// Borrows `bytes` when an owner keeps them alive and they are 4-byte aligned (every f32/f16/bf16
    /// element then loads without faults); copies otherwise.
    public func makeWeightBuffer(copying bytes: UnsafeRawBufferPointer, owner: AnyObject?) throws -> any DeviceBuffer {
        if let owner, let base = bytes.baseAddress, Int(bitPattern: base) % 4 == 0 {
            return HostBuffer(borrowing: bytes, owner: owner, usage: .weights)
        }
        let buffer = HostBuffer(byteCount: bytes.count, usage: .weights)
        if let base = bytes.baseAddress { buffer.hostAddress!.copyMemory(from: base, byteCount: bytes.count) }
        return buffer
    }

    public func upload(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor) {
        precondition(tensor.isContiguous && bytes.count == tensor.elementCount * tensor.dtype.byteSize, "upload size")
        if let base = bytes.baseAddress { tensor.hostAddress!.copyMemory(from: base, byteCount: bytes.count) }
    }

    public func download(_ tensor: Tensor, into bytes: UnsafeMutableRawBufferPointer) {
        precondition(tensor.dtype == .f32 && bytes.count == tensor.elementCount * 4, "download size")
        let rowBytes = tensor.columns * 4
        for r in 0..<tensor.rows {
            (bytes.baseAddress! + r * rowBytes).copyMemory(
                from: tensor.hostAddress! + r * tensor.rowStride * 4, byteCount: rowBytes)
        }
    }

    public func synchronize() {}
}
