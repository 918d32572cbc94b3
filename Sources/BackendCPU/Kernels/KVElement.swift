import Backends

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
    /// The `rows` query heads at `query` (`headDim` apart) in the order ``keyScores(_:keyCount:)``
    /// reads them: `query` itself, or a copy in `scratch` (room for `rows · headDim` floats).
    static func prepareQueries(
        _ query: UnsafePointer<Float>, rows: Int, headDim: Int, scratch: UnsafeMutablePointer<Float>
    ) -> UnsafePointer<Float>
    /// `scores[r · outStride + j] = x_r · key_j` for the `rows` (1 or 2) query heads of `product.x`
    /// (from ``prepareQueries(_:rows:headDim:scratch:)``) and the keys `0 ..< keyCount` at
    /// `product.weight`, `headDim` elements apart.
    static func keyScores(_ product: MatVecOperands, keyCount: Int)
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

    @inlinable @inline(__always)
    static func prepareQueries(
        _ query: UnsafePointer<Float>, rows: Int, headDim: Int, scratch: UnsafeMutablePointer<Float>
    ) -> UnsafePointer<Float> {
        query
    }

    /// Through the weight matrix–vector kernels: a page's keys are the rows of a small matrix.
    @inlinable @inline(__always)
    static func keyScores(_ product: MatVecOperands, keyCount: Int) {
        if product.rows == 2 {
            matVecF32Batched(product, columns: 0..<keyCount)
        } else {
            matVecF32(product, columns: 0..<keyCount)
        }
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

    /// The queries in the pair order of the bf16 weight kernel (``permuteForPairs(_:_:_:)``),
    /// once per row and head pair, not per page.
    @inlinable @inline(__always)
    static func prepareQueries(
        _ query: UnsafePointer<Float>, rows: Int, headDim: Int, scratch: UnsafeMutablePointer<Float>
    ) -> UnsafePointer<Float> {
        for r in 0..<rows { permuteForPairs(query + r &* headDim, scratch + r &* headDim, headDim) }
        return UnsafePointer(scratch)
    }

    /// Through the bf16 weight kernel, which widens a pair of keys' features with one 32-bit load.
    @inlinable @inline(__always)
    static func keyScores(_ product: MatVecOperands, keyCount: Int) {
        matVecBF16(product, columns: 0..<keyCount)
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
