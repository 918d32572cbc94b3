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
    /// The only copy of the weight that is held: the checkpoint's mapping is released once packed.
    /// Every row count runs the panel kernel: against OpenBLAS's GEMM on the row-major f32 original
    /// it is ahead up to 128 rows and within 10% at 512 (bf16: ahead at every row count; `bench
    /// --workload matmul`, docs/BENCHMARKS.md), and keeping that original beside the panels would
    /// double the weights' memory.
    let storage: HostBuffer
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
    /// Packs every f32, f16 and bf16 matmul weight into column panels (see ``PackedWeights``). With
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
