import Backends
import CBLAS

/// Arguments of `out = x · weightᵀ + bias` for GEMM, as raw pointers (kernels never see `Tensor`).
@usableFromInline
struct MatMulOperands {
    @usableFromInline var x: UnsafePointer<Float>
    @usableFromInline var xStride: Int
    @usableFromInline var weight: UnsafeRawPointer
    @usableFromInline var weightDType: DType
    @usableFromInline var bias: UnsafePointer<Float>?
    @usableFromInline var out: UnsafeMutablePointer<Float>
    @usableFromInline var outStride: Int
    /// M, N, K.
    @usableFromInline var rows: Int
    @usableFromInline var outFeatures: Int
    @usableFromInline var inFeatures: Int
}

/// GEMM for many rows through OpenBLAS on output columns `columns`. f16/bf16 weights are widened
/// block by block into `scratch` (`blockRows × K` floats) first, so sgemm always sees f32.
@inlinable
func gemmColumns(_ op: MatMulOperands, columns: Range<Int>, scratch: UnsafeMutablePointer<Float>, blockRows: Int) {
    guard !columns.isEmpty, op.rows > 0 else { return }
    let k = op.inFeatures
    // Seed the output with the bias so sgemm can accumulate into it (beta = 1).
    let beta: Float = op.bias == nil ? 0 : 1
    if let bias = op.bias {
        for m in 0..<op.rows {
            (op.out + m &* op.outStride + columns.lowerBound).update(from: bias + columns.lowerBound, count: columns.count)
        }
    }
    if op.weightDType == .f32 {
        let weight = op.weight.assumingMemoryBound(to: Float.self) + columns.lowerBound &* k
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(op.rows), Int32(columns.count), Int32(k),
            1, op.x, Int32(op.xStride), weight, Int32(k), beta, op.out + columns.lowerBound, Int32(op.outStride))
        return
    }
    var start = columns.lowerBound
    while start < columns.upperBound {
        let count = min(blockRows, columns.upperBound - start)
        widen(op.weight + start &* k &* op.weightDType.byteSize, op.weightDType, into: scratch, count &* k)
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(op.rows), Int32(count), Int32(k),
            1, op.x, Int32(op.xStride), scratch, Int32(k), beta, op.out + start, Int32(op.outStride))
        start &+= count
    }
}
