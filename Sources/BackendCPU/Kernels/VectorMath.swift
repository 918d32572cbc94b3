import Backends

/// Eight f32 lanes: the AVX2 register width this module is compiled for.
@usableFromInline typealias Vec8 = SIMD8<Float>

/// Loads 8 floats from `base + index` (unaligned).
@inlinable @inline(__always)
func load8(_ base: UnsafePointer<Float>, _ index: Int) -> Vec8 {
    UnsafeRawPointer(base + index).loadUnaligned(as: Vec8.self)
}

/// Stores 8 floats at `base + index` (unaligned).
@inlinable @inline(__always)
func store8(_ value: Vec8, _ base: UnsafeMutablePointer<Float>, _ index: Int) {
    UnsafeMutableRawPointer(base + index).storeBytes(of: value, as: Vec8.self)
}

/// Loads 8 bf16 values at element `index` and widens them to f32 (a 16-bit shift).
@inlinable @inline(__always)
func loadBF16x8(_ base: UnsafeRawPointer, _ index: Int) -> Vec8 {
    let halves = base.loadUnaligned(fromByteOffset: index &* 2, as: SIMD8<UInt16>.self)
    let words = SIMD8<UInt32>(truncatingIfNeeded: halves) &<< 16
    return unsafeBitCast(words, to: Vec8.self)
}

/// Loads 8 f16 values at element `index` and widens them to f32 (F16C conversion).
@inlinable @inline(__always)
func loadF16x8(_ base: UnsafeRawPointer, _ index: Int) -> Vec8 {
    let halves = base.loadUnaligned(fromByteOffset: index &* 2, as: SIMD8<Float16>.self)
    return Vec8(
        Float(halves[0]), Float(halves[1]), Float(halves[2]), Float(halves[3]),
        Float(halves[4]), Float(halves[5]), Float(halves[6]), Float(halves[7]))
}

/// Lane-wise maximum. The standard library's generic `pointwiseMax` is not inlined across the
/// module boundary and costs a call per vector; a compare-and-select is one instruction each.
@inlinable @inline(__always)
func lanewiseMax(_ a: Vec8, _ b: Vec8) -> Vec8 {
    a.replacing(with: b, where: a .< b)
}

/// exp(x) for 8 lanes: range reduction to r ∈ [-ln2/2, ln2/2], a degree-6 polynomial, and the
/// power of two assembled in the exponent bits. Relative error below 2e-7 on [-87, 88];
/// inputs below -87 give 0 (softmax and silu only need that range).
@inlinable @inline(__always)
func exp8(_ x: Vec8) -> Vec8 {
    let low = Vec8(repeating: -87.3), high = Vec8(repeating: 88.3)
    let clamped = x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
    let n = (clamped * 1.442_695_04).rounded(.toNearestOrEven)
    // Cody–Waite: ln2 split into a part exact in f32 and a small correction.
    var r = clamped - n * 0.693_145_75
    r = r - n * 1.428_606_8e-6
    var p = Vec8(repeating: 1.0 / 720)
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    // n is integral and |n| < 2^22: adding 1.5·2^23 puts it in the low mantissa bits, which avoids a
    // per-lane float→int conversion.
    let biased = unsafeBitCast(n + 12_582_912, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((biased &+ 127) &<< 23, to: Vec8.self)
    let result = p * scale
    return result.replacing(with: 0, where: x .< -87.3)
}

/// Scalar exp with the same algorithm (tails of vector loops).
@inlinable @inline(__always)
func exp1(_ x: Float) -> Float {
    exp8(Vec8(repeating: x))[0]
}

/// Dot product of two f32 vectors of length `count`.
@inlinable
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    var s0 = Vec8(), s1 = Vec8(), s2 = Vec8(), s3 = Vec8()
    var i = 0
    while i &+ 32 <= count {
        s0.addProduct(load8(a, i), load8(b, i))
        s1.addProduct(load8(a, i &+ 8), load8(b, i &+ 8))
        s2.addProduct(load8(a, i &+ 16), load8(b, i &+ 16))
        s3.addProduct(load8(a, i &+ 24), load8(b, i &+ 24))
        i &+= 32
    }
    while i &+ 8 <= count {
        s0.addProduct(load8(a, i), load8(b, i))
        i &+= 8
    }
    var sum = ((s0 + s1) + (s2 + s3)).sum()
    while i < count {
        sum += a[i] * b[i]
        i &+= 1
    }
    return sum
}

/// `y += alpha * x` over `count` elements.
@inlinable
func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
    let a = Vec8(repeating: alpha)
    var i = 0
    while i &+ 8 <= count {
        var v = load8(y, i)
        v.addProduct(a, load8(x, i))
        store8(v, y, i)
        i &+= 8
    }
    while i < count {
        y[i] += alpha * x[i]
        i &+= 1
    }
}

/// Widens `count` elements of `dtype` at `source` into f32 `destination`.
@inlinable
func widen(_ source: UnsafeRawPointer, _ dtype: DType, into destination: UnsafeMutablePointer<Float>, _ count: Int) {
    switch dtype {
    case .f32:
        destination.update(from: source.assumingMemoryBound(to: Float.self), count: count)
    case .bf16:
        var i = 0
        while i &+ 8 <= count {
            store8(loadBF16x8(source, i), destination, i)
            i &+= 8
        }
        while i < count {
            destination[i] = floatFromBF16(source.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self))
            i &+= 1
        }
    case .f16:
        var i = 0
        while i &+ 8 <= count {
            store8(loadF16x8(source, i), destination, i)
            i &+= 8
        }
        while i < count {
            destination[i] = floatFromF16(source.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self))
            i &+= 1
        }
    }
}
