import Backends

/// A matmul weight `[N, K]` re-laid out as column panels for the panel kernel
/// (``panelMatMul(_:_:panels:panelBytes:kernels:)``): panel `p` holds output features `16p ..< 16p + 16` as `K`
/// consecutive groups of 16 elements, one group per input feature. A step of the kernel then loads
/// one contiguous group and multiplies it by one broadcast input element per row of `x`: outer
/// products instead of dot products, with no horizontal sums and every weight byte read once per
/// block of rows.
///
/// The last panel is zero-padded when `N` is not a multiple of 16. f32 and f16 groups are in natural
/// order. A bf16 group is stored so that one 32-byte load widens with two bit operations: 32-bit
/// word `j` holds feature `j` in its low half and feature `j + 8` in its high half.
final class PackedWeights: DeviceBuffer {
    let storage: HostBuffer
    /// The row-major original of an f32 weight, kept for many-row matmuls (prefill), where
    /// OpenBLAS's GEMM is faster than the panel kernel. Not kept for bf16 and f16: OpenBLAS would
    /// widen them block by block on every call, and the panel kernel comes within 6% of it at 256
    /// and 512 rows (`bench --workload matmul`, docs/BENCHMARKS.md), so the packed copy is the only
    /// one held.
    let rowMajor: Tensor?
    let dtype: DType
    /// N and K of the logical matrix.
    let outFeatures: Int
    let inFeatures: Int

    var byteCount: Int { storage.byteCount }
    var usage: BufferUsage { .weights }
    var hostAddress: UnsafeMutableRawPointer? { storage.hostAddress }

    var panelCount: Int { (outFeatures + panelWidth - 1) / panelWidth }
    /// Bytes from one panel to the next.
    var panelBytes: Int { inFeatures * panelWidth * dtype.byteSize }

    /// Packs the contiguous row-major matrix `weight`.
    init(packing weight: Tensor) {
        precondition(weight.isContiguous && weight.hostAddress != nil, "packing needs a contiguous host tensor")
        dtype = weight.dtype
        rowMajor = weight.dtype == .f32 ? weight : nil
        outFeatures = weight.rows
        inFeatures = weight.columns
        let width = panelWidth
        let panels = (outFeatures + width - 1) / width
        storage = HostBuffer(byteCount: max(panels * inFeatures * width * dtype.byteSize, 1), usage: .weights)
        let k = inFeatures
        switch dtype {
        case .f32:
            let source = weight.raw.assumingMemoryBound(to: Float.self)
            let target = storage.hostAddress!.assumingMemoryBound(to: Float.self)
            for n in 0..<outFeatures {
                let panel = target + (n / width) * k * width + n % width
                let row = source + n * k
                for i in 0..<k { panel[i * width] = row[i] }
            }
        case .bf16, .f16:
            let source = weight.raw.assumingMemoryBound(to: UInt16.self)
            let target = storage.hostAddress!.assumingMemoryBound(to: UInt16.self)
            for n in 0..<outFeatures {
                let j = n % width
                let slot = dtype == .f16 ? j : (j < 8 ? 2 * j : 2 * (j - 8) + 1)
                let panel = target + (n / width) * k * width + slot
                let row = source + n * k
                for i in 0..<k { panel[i * width] = row[i] }
            }
        }
    }
}

extension CPUBackend {
    /// Packs every f32, f16 and bf16 matmul weight into column panels (see ``PackedWeights``) for
    /// decode; the row-major original of an f32 weight is kept for prefill. With
    /// ``WeightQuantization/int8`` it quantizes them instead (see ``QuantizedWeights``).
    public func prepareMatmulWeight(_ weight: Tensor) throws -> Tensor {
        guard weight.isContiguous, weight.rows > 0 else { return weight }
        if weightQuantization == .int8 {
            let quantized = QuantizedWeights(quantizing: weight)
            return Tensor(preparedWeight: quantized, dtype: weight.dtype, rows: weight.rows, columns: weight.columns)
        }
        let packed = PackedWeights(packing: weight)
        return Tensor(buffer: packed, dtype: weight.dtype, rows: weight.rows, columns: weight.columns)
    }
}
