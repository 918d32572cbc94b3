import Backends

/// Matrix–vector products for few rows of `x` (decode): `out[m, n] = x[m] · W[n] + bias[n]`.
///
/// Weight rows are processed four at a time, and every row of `x` is dotted with the four while
/// they sit in L1, so each weight byte is read from memory once per call. The kernel is
/// memory-bound: f16/bf16 weights are widened in registers, halving the bytes read.
///
/// bf16 uses no conversion instruction at all: a 32-bit load holds two bf16 values, `w << 16` is
/// the even one as f32 and `w & 0xFFFF0000` the odd one. Dotting those against `x` requires `x`
/// in the matching order, so callers pass `xPermuted`, made by ``permuteForPairs(_:_:_:)``.
@usableFromInline
struct MatVecOperands {
    @usableFromInline var x: UnsafePointer<Float>
    @usableFromInline var xStride: Int
    @usableFromInline var weight: UnsafeRawPointer
    @usableFromInline var bias: UnsafePointer<Float>?
    @usableFromInline var out: UnsafeMutablePointer<Float>
    @usableFromInline var outStride: Int
    @usableFromInline var rows: Int
    @usableFromInline var inFeatures: Int

    @inlinable
    init(
        x: UnsafePointer<Float>, xStride: Int, weight: UnsafeRawPointer, bias: UnsafePointer<Float>?,
        out: UnsafeMutablePointer<Float>, outStride: Int, rows: Int, inFeatures: Int
    ) {
        self.x = x
        self.xStride = xStride
        self.weight = weight
        self.bias = bias
        self.out = out
        self.outStride = outStride
        self.rows = rows
        self.inFeatures = inFeatures
    }
}

/// Rewrites each 16-element block of `source` (length `count`) as its 8 even elements followed by
/// its 8 odd ones; a shorter tail is copied as is.
@inlinable
func permuteForPairs(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, _ count: Int) {
    var i = 0
    while i &+ 16 <= count {
        for j in 0..<8 {
            destination[i &+ j] = source[i &+ 2 &* j]
            destination[i &+ 8 &+ j] = source[i &+ 2 &* j &+ 1]
        }
        i &+= 16
    }
    while i < count {
        destination[i] = source[i]
        i &+= 1
    }
}

/// f32 weights, output columns `columns`.
@inlinable
func matVecF32(_ op: MatVecOperands, columns: Range<Int>) {
    let k = op.inFeatures
    let w = op.weight.assumingMemoryBound(to: Float.self)
    var n = columns.lowerBound
    while n &+ 4 <= columns.upperBound {
        let r0 = w + n &* k, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k
        for m in 0..<op.rows {
            let x = op.x + m &* op.xStride
            var a0 = Vec8(), a1 = Vec8(), a2 = Vec8(), a3 = Vec8()
            var b0 = Vec8(), b1 = Vec8(), b2 = Vec8(), b3 = Vec8()
            var i = 0
            while i &+ 16 <= k {
                let x0 = load8(x, i), x1 = load8(x, i &+ 8)
                a0.addProduct(load8(r0, i), x0)
                b0.addProduct(load8(r0, i &+ 8), x1)
                a1.addProduct(load8(r1, i), x0)
                b1.addProduct(load8(r1, i &+ 8), x1)
                a2.addProduct(load8(r2, i), x0)
                b2.addProduct(load8(r2, i &+ 8), x1)
                a3.addProduct(load8(r3, i), x0)
                b3.addProduct(load8(r3, i &+ 8), x1)
                i &+= 16
            }
            var s0 = (a0 + b0).sum(), s1 = (a1 + b1).sum(), s2 = (a2 + b2).sum(), s3 = (a3 + b3).sum()
            while i < k {
                s0 += r0[i] * x[i]
                s1 += r1[i] * x[i]
                s2 += r2[i] * x[i]
                s3 += r3[i] * x[i]
                i &+= 1
            }
            storeFour(op, m, n, s0, s1, s2, s3)
        }
        n &+= 4
    }
    while n < columns.upperBound {
        for m in 0..<op.rows {
            op.out[m &* op.outStride &+ n] = dot(w + n &* k, op.x + m &* op.xStride, k) + (op.bias?[n] ?? 0)
        }
        n &+= 1
    }
}

/// bf16 weights, output columns `columns`; `op.x` must be permuted by ``permuteForPairs(_:_:_:)``.
@inlinable
func matVecBF16(_ op: MatVecOperands, columns: Range<Int>) {
    let k = op.inFeatures
    let rowBytes = k &* 2
    let high = SIMD8<UInt32>(repeating: 0xFFFF_0000)
    @inline(__always) func pair(_ row: UnsafeRawPointer, _ i: Int) -> (even: Vec8, odd: Vec8) {
        let words = row.loadUnaligned(fromByteOffset: i &* 2, as: SIMD8<UInt32>.self)
        return (unsafeBitCast(words &<< 16, to: Vec8.self), unsafeBitCast(words & high, to: Vec8.self))
    }
    var n = columns.lowerBound
    while n &+ 4 <= columns.upperBound {
        let r0 = op.weight + n &* rowBytes, r1 = r0 + rowBytes, r2 = r1 + rowBytes, r3 = r2 + rowBytes
        for m in 0..<op.rows {
            let x = op.x + m &* op.xStride
            var a0 = Vec8(), a1 = Vec8(), a2 = Vec8(), a3 = Vec8()
            var b0 = Vec8(), b1 = Vec8(), b2 = Vec8(), b3 = Vec8()
            var i = 0
            while i &+ 16 <= k {
                let xEven = load8(x, i), xOdd = load8(x, i &+ 8)
                let w0 = pair(r0, i), w1 = pair(r1, i), w2 = pair(r2, i), w3 = pair(r3, i)
                a0.addProduct(w0.even, xEven)
                b0.addProduct(w0.odd, xOdd)
                a1.addProduct(w1.even, xEven)
                b1.addProduct(w1.odd, xOdd)
                a2.addProduct(w2.even, xEven)
                b2.addProduct(w2.odd, xOdd)
                a3.addProduct(w3.even, xEven)
                b3.addProduct(w3.odd, xOdd)
                i &+= 16
            }
            var s0 = (a0 + b0).sum(), s1 = (a1 + b1).sum(), s2 = (a2 + b2).sum(), s3 = (a3 + b3).sum()
            while i < k {
                s0 += loadElement(r0, i, .bf16) * x[i]
                s1 += loadElement(r1, i, .bf16) * x[i]
                s2 += loadElement(r2, i, .bf16) * x[i]
                s3 += loadElement(r3, i, .bf16) * x[i]
                i &+= 1
            }
            storeFour(op, m, n, s0, s1, s2, s3)
        }
        n &+= 4
    }
    while n < columns.upperBound {
        let row = op.weight + n &* rowBytes
        for m in 0..<op.rows {
            let x = op.x + m &* op.xStride
            var acc = Vec8()
            var i = 0
            while i &+ 16 <= k {
                let w = pair(row, i)
                acc.addProduct(w.even, load8(x, i))
                acc.addProduct(w.odd, load8(x, i &+ 8))
                i &+= 16
            }
            var sum = acc.sum()
            while i < k {
                sum += loadElement(row, i, .bf16) * x[i]
                i &+= 1
            }
            op.out[m &* op.outStride &+ n] = sum + (op.bias?[n] ?? 0)
        }
        n &+= 1
    }
}

/// f16 weights, output columns `columns` (F16C widening, natural element order).
@inlinable
func matVecF16(_ op: MatVecOperands, columns: Range<Int>) {
    let k = op.inFeatures
    let rowBytes = k &* 2
    for n in columns {
        let row = op.weight + n &* rowBytes
        for m in 0..<op.rows {
            let x = op.x + m &* op.xStride
            var a = Vec8(), b = Vec8()
            var i = 0
            while i &+ 16 <= k {
                a.addProduct(loadF16x8(row, i), load8(x, i))
                b.addProduct(loadF16x8(row, i &+ 8), load8(x, i &+ 8))
                i &+= 16
            }
            var sum = (a + b).sum()
            while i < k {
                sum += loadElement(row, i, .f16) * x[i]
                i &+= 1
            }
            op.out[m &* op.outStride &+ n] = sum + (op.bias?[n] ?? 0)
        }
    }
}

@inlinable @inline(__always)
func storeFour(_ op: MatVecOperands, _ m: Int, _ n: Int, _ s0: Float, _ s1: Float, _ s2: Float, _ s3: Float) {
    let out = op.out + (m &* op.outStride &+ n)
    if let bias = op.bias {
        out[0] = s0 + bias[n]
        out[1] = s1 + bias[n &+ 1]
        out[2] = s2 + bias[n &+ 2]
        out[3] = s3 + bias[n &+ 3]
    } else {
        out[0] = s0
        out[1] = s1
        out[2] = s2
        out[3] = s3
    }
}

/// f32 weights for a few rows of `x` (batched decode): 4 weight rows × 2 rows of `x` per pass, so
/// each 8-wide step does 8 FMAs for 6 loads, and every weight byte still comes from memory once.
/// OpenBLAS would instead copy (pack) the whole weight matrix on every call, which at these row
/// counts costs as much as the multiplication itself.
@inlinable
func matVecF32Batched(_ op: MatVecOperands, columns: Range<Int>) {
    let k = op.inFeatures
    let w = op.weight.assumingMemoryBound(to: Float.self)
    let vectorEnd = k & ~7
    var n = columns.lowerBound
    while n &+ 4 <= columns.upperBound {
        let r0 = w + n &* k, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k
        var m = 0
        while m &+ 2 <= op.rows {
            let x0 = op.x + m &* op.xStride, x1 = x0 + op.xStride
            var a00 = Vec8(), a10 = Vec8(), a20 = Vec8(), a30 = Vec8()
            var a01 = Vec8(), a11 = Vec8(), a21 = Vec8(), a31 = Vec8()
            var i = 0
            while i < vectorEnd {
                let v0 = load8(x0, i), v1 = load8(x1, i)
                let w0 = load8(r0, i), w1 = load8(r1, i), w2 = load8(r2, i), w3 = load8(r3, i)
                a00.addProduct(w0, v0)
                a01.addProduct(w0, v1)
                a10.addProduct(w1, v0)
                a11.addProduct(w1, v1)
                a20.addProduct(w2, v0)
                a21.addProduct(w2, v1)
                a30.addProduct(w3, v0)
                a31.addProduct(w3, v1)
                i &+= 8
            }
            var s00 = a00.sum(), s10 = a10.sum(), s20 = a20.sum(), s30 = a30.sum()
            var s01 = a01.sum(), s11 = a11.sum(), s21 = a21.sum(), s31 = a31.sum()
            while i < k {
                s00 += r0[i] * x0[i]
                s10 += r1[i] * x0[i]
                s20 += r2[i] * x0[i]
                s30 += r3[i] * x0[i]
                s01 += r0[i] * x1[i]
                s11 += r1[i] * x1[i]
                s21 += r2[i] * x1[i]
                s31 += r3[i] * x1[i]
                i &+= 1
            }
            storeFour(op, m, n, s00, s10, s20, s30)
            storeFour(op, m &+ 1, n, s01, s11, s21, s31)
            m &+= 2
        }
        if m < op.rows {
            var single = op
            single.x = op.x + m &* op.xStride
            single.out = op.out + m &* op.outStride
            single.rows = 1
            matVecF32(single, columns: n..<(n &+ 4))
        }
        n &+= 4
    }
    if n < columns.upperBound { matVecF32(op, columns: n..<columns.upperBound) }
}
