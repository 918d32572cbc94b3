import Backends
import CKernels

/// A matmul weight `[N, K]` quantized to int8 (``WeightQuantization/int8``): row `n` is ⌈K / 32⌉
/// blocks of 32 signed bytes (the last zero-padded) with one f16 scale each, max |w| / 127 rounded
/// up to an f16, so a block holds round(w / scale). The quantized rows and the scales are two
/// arrays; one weight element costs 1 + 2/32 bytes, as in GGUF's Q8_0.
final class QuantizedWeights: DeviceBuffer {
    let quants: HostBuffer
    let scales: HostBuffer
    /// N and K of the logical matrix.
    let outFeatures: Int
    let inFeatures: Int
    let blocks: Int

    var byteCount: Int { quants.byteCount + scales.byteCount }
    var usage: BufferUsage { .weights }
    var hostAddress: UnsafeMutableRawPointer? { quants.hostAddress }

    var quantPointer: UnsafePointer<Int8> { UnsafePointer(quants.hostAddress!.assumingMemoryBound(to: Int8.self)) }
    /// The scales' f16 bit patterns.
    var scalePointer: UnsafePointer<UInt16> { UnsafePointer(scales.hostAddress!.assumingMemoryBound(to: UInt16.self)) }

    /// Quantizes the contiguous row-major f32, bf16 or f16 matrix `weight`, widening `rowsPerBlock`
    /// rows at a time.
    init(quantizing weight: Tensor, rowsPerBlock: Int = 64) {
        precondition(weight.isContiguous && weight.hostAddress != nil, "quantizing needs a contiguous host tensor")
        outFeatures = weight.rows
        inFeatures = weight.columns
        blocks = (inFeatures + Int(RADIXSERVE_Q8_BLOCK) - 1) / Int(RADIXSERVE_Q8_BLOCK)
        let width = blocks * Int(RADIXSERVE_Q8_BLOCK)
        quants = HostBuffer(byteCount: max(outFeatures * width, 1), usage: .weights)
        scales = HostBuffer(byteCount: max(outFeatures * blocks * 2, 1), usage: .weights)
        let q = quants.hostAddress!.assumingMemoryBound(to: Int8.self)
        let s = scales.hostAddress!.assumingMemoryBound(to: UInt16.self)
        let k = inFeatures
        if weight.dtype == .f32 {
            radixserve_q8_quantize_weight_rows(weight.floats, k, outFeatures, k, q, s)
            return
        }
        let widened = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerBlock * k)
        defer { widened.deallocate() }
        for first in stride(from: 0, to: outFeatures, by: rowsPerBlock) {
            let rows = min(rowsPerBlock, outFeatures - first)
            widen(weight.raw + first * k * weight.dtype.byteSize, weight.dtype, into: widened, rows * k)
            radixserve_q8_quantize_weight_rows(widened, k, rows, k, q + first * width, s + first * blocks)
        }
    }
}
