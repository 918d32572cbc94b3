import Backends
import CKernels

/// How the CPU backend's KV cache stores one element, and the attention pieces that depend on it.
/// Attention is generic over it and specialized per dtype, so the choice is made once per work
/// item, never per element (the pattern of ``PanelFormat``).
@usableFromInline
protocol KVElement {
    /// The cache dtype.
    static var dtype: DType { get }
    /// Bytes per element.
    static var byteSize: Int { get }
    /// Elements `index ..< index + 8` widened to f32.
    static func load8(_ base: UnsafeRawPointer, _ index: Int) -> Vec8
    /// Element `index` widened to f32.
    static func load(_ base: UnsafeRawPointer, _ index: Int) -> Float
    /// `scores[r · outStride + j] = x_r · key_j` for the `rows` (1 or 2) query heads of `product.x`
    /// and the keys `0 ..< keyCount` at `product.weight`, `headDim` elements apart. `permuted`
    /// holds room for `rows · headDim` floats.
    static func keyScores(_ product: MatVecOperands, keyCount: Int, permuted: UnsafeMutablePointer<Float>)
    /// The AVX-512 value sums of a 64-feature head (``radixserve_weighted_values64_avx512``).
    static func valueSums64AVX512(
        _ headBase: UnsafeRawPointer, pageStride: Int, pages: UnsafePointer<Int32>, pageSize: Int, count: Int,
        _ pa: UnsafePointer<Float>, _ pb: UnsafePointer<Float>?, _ oa: UnsafeMutablePointer<Float>,
        _ ob: UnsafeMutablePointer<Float>?)
}

/// f32 keys and values, as the step computed them.
@usableFromInline
enum F32KV: KVElement {
    @inlinable static var dtype: DType { .f32 }
    @inlinable static var byteSize: Int { 4 }

    @inlinable @inline(__always)
    static func load8(_ base: UnsafeRawPointer, _ index: Int) -> Vec8 {
        base.loadUnaligned(fromByteOffset: index &* 4, as: Vec8.self)
    }

    @inlinable @inline(__always)
    static func load(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        base.loadUnaligned(fromByteOffset: index &* 4, as: Float.self)
    }

    /// Through the weight matrix–vector kernels: a page's keys are the rows of a small matrix.
    @inlinable @inline(__always)
    static func keyScores(_ product: MatVecOperands, keyCount: Int, permuted: UnsafeMutablePointer<Float>) {
        if product.rows == 2 {
            matVecF32Batched(product, columns: 0..<keyCount)
        } else {
            matVecF32(product, columns: 0..<keyCount)
        }
    }

    @inlinable @inline(__always)
    static func valueSums64AVX512(
        _ headBase: UnsafeRawPointer, pageStride: Int, pages: UnsafePointer<Int32>, pageSize: Int, count: Int,
        _ pa: UnsafePointer<Float>, _ pb: UnsafePointer<Float>?, _ oa: UnsafeMutablePointer<Float>,
        _ ob: UnsafeMutablePointer<Float>?
    ) {
        radixserve_weighted_values64_avx512(
            headBase.assumingMemoryBound(to: Float.self), pageStride, pages, pageSize, count, pa, pb, oa, ob)
    }
}

/// bf16 keys and values: the high half of the f32, rounded to nearest even when stored, widened
/// in registers when read (a 16-bit shift), so attention streams half the bytes.
@usableFromInline
enum BF16KV: KVElement {
    @inlinable static var dtype: DType { .bf16 }
    @inlinable static var byteSize: Int { 2 }

    @inlinable @inline(__always)
    static func load8(_ base: UnsafeRawPointer, _ index: Int) -> Vec8 { loadBF16x8(base, index) }

    @inlinable @inline(__always)
    static func load(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        floatFromBF16(base.loadUnaligned(fromByteOffset: index &* 2, as: UInt16.self))
    }

    /// Through the bf16 weight kernel, which widens pairs of keys with one 32-bit load; the
    /// queries go in its pair order (``permuteForPairs(_:_:_:)``) into `permuted`.
    @inlinable @inline(__always)
    static func keyScores(_ product: MatVecOperands, keyCount: Int, permuted: UnsafeMutablePointer<Float>) {
        var product = product
        for r in 0..<product.rows {
            permuteForPairs(product.x + r &* product.xStride, permuted + r &* product.inFeatures, product.inFeatures)
        }
        product.x = UnsafePointer(permuted)
        product.xStride = product.inFeatures
        matVecBF16(product, columns: 0..<keyCount)
    }

    @inlinable @inline(__always)
    static func valueSums64AVX512(
        _ headBase: UnsafeRawPointer, pageStride: Int, pages: UnsafePointer<Int32>, pageSize: Int, count: Int,
        _ pa: UnsafePointer<Float>, _ pb: UnsafePointer<Float>?, _ oa: UnsafeMutablePointer<Float>,
        _ ob: UnsafeMutablePointer<Float>?
    ) {
        radixserve_weighted_values64_bf16_avx512(
            headBase.assumingMemoryBound(to: UInt16.self), pageStride, pages, pageSize, count, pa, pb, oa, ob)
    }
}

/// Stores `count` floats from `source` at `destination` as bf16, rounded to nearest even with NaN
/// kept quiet: the bits of ``Backends/bf16FromFloat(_:)``, 8 at a time.
@inlinable
func storeBF16(_ source: UnsafePointer<Float>, _ destination: UnsafeMutableRawPointer, _ count: Int) {
    let one = SIMD8<UInt32>(repeating: 1), bias = SIMD8<UInt32>(repeating: 0x7FFF), quiet = SIMD8<UInt32>(repeating: 0x40)
    var i = 0
    while i &+ 8 <= count {
        let value = load8(source, i)
        let bits = unsafeBitCast(value, to: SIMD8<UInt32>.self)
        let high = bits &>> 16
        let rounded = (bits &+ bias &+ (high & one)) &>> 16
        let result = rounded.replacing(with: high | quiet, where: value .!= value)
        destination.storeBytes(of: SIMD8<UInt16>(truncatingIfNeeded: result), toByteOffset: i &* 2, as: SIMD8<UInt16>.self)
        i &+= 8
    }
    while i < count {
        destination.storeBytes(of: bf16FromFloat(source[i]), toByteOffset: i &* 2, as: UInt16.self)
        i &+= 1
    }
}
