import Backends
import CBLAS

/// Arguments of `out = x · weightᵀ + bias` as raw pointers (kernels never see `Tensor`).
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

/// Matrix–vector style kernel for few rows (decode): each weight row is streamed from memory once
/// and dotted with every row of `x` while it is in L1. Computes output columns `columns`.
/// Memory-bound; the widening of f16/bf16 weights happens in registers.
@inlinable
func gemvRows(_ op: MatMulOperands, columns: Range<Int>) {
    switch op.weightDType {
    case .f32: gemvRows(op, columns: columns, load: { base, i in load8(base.assumingMemoryBound(to: Float.self), i) }, elementSize: 4)
    case .bf16: gemvRows(op, columns: columns, load: loadBF16x8, elementSize: 2)
    case .f16: gemvRows(op, columns: columns, load: loadF16x8, elementSize: 2)
    }
}

@inlinable @inline(__always)
func gemvRows(
    _ op: MatMulOperands, columns: Range<Int>, load: (UnsafeRawPointer, Int) -> Vec8, elementSize: Int
) {
    let k = op.inFeatures
    let vectorEnd = k & ~31
    for n in columns {
        let row = op.weight + n &* k &* elementSize
        let bias = op.bias?[n] ?? 0
        for m in 0..<op.rows {
            let x = op.x + m &* op.xStride
            var s0 = Vec8(), s1 = Vec8(), s2 = Vec8(), s3 = Vec8()
            var i = 0
            while i < vectorEnd {
                s0.addProduct(load(row, i), load8(x, i))
                s1.addProduct(load(row, i &+ 8), load8(x, i &+ 8))
                s2.addProduct(load(row, i &+ 16), load8(x, i &+ 16))
                s3.addProduct(load(row, i &+ 24), load8(x, i &+ 24))
                i &+= 32
            }
            var sum = ((s0 + s1) + (s2 + s3)).sum()
            while i < k {
                sum += loadElement(row, i, op.weightDType) * x[i]
                i &+= 1
            }
            op.out[m &* op.outStride &+ n] = sum + bias
        }
    }
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
