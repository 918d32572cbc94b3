import Backends

#if canImport(Glibc)
import Glibc
#endif

/// RMSNorm of one group: `out = x / sqrt(mean(x²) + eps) * weight` (weight f32, `count` wide).
@inlinable
func rmsNormGroup(
    _ x: UnsafePointer<Float>, _ weight: UnsafeRawPointer, _ weightDType: DType,
    _ out: UnsafeMutablePointer<Float>, _ count: Int, _ epsilon: Float
) {
    var acc0 = Vec8(), acc1 = Vec8()
    var i = 0
    while i &+ 16 <= count {
        let a = load8(x, i), b = load8(x, i &+ 8)
        acc0.addProduct(a, a)
        acc1.addProduct(b, b)
        i &+= 16
    }
    // Sum in Double for the final reduction (ggml_float-style), then round to f32 like the reference.
    var sum = Double((acc0 + acc1).sum())
    while i < count {
        sum += Double(x[i] * x[i])
        i &+= 1
    }
    let inverse = 1 / Float(sum / Double(count) + Double(epsilon)).squareRoot()
    let scale = Vec8(repeating: inverse)
    i = 0
    if weightDType == .f32 {
        let w = weight.assumingMemoryBound(to: Float.self)
        while i &+ 8 <= count {
            store8(load8(w, i) * (load8(x, i) * scale), out, i)
            i &+= 8
        }
    }
    while i < count {
        out[i] = loadElement(weight, i, weightDType) * (x[i] * inverse)
        i &+= 1
    }
}

/// Rotates every `headDim`-wide head of one row in place (rotate-half layout).
/// `table` holds `headDim / 2` cosines followed by `headDim / 2` sines.
@inlinable
func ropeRow(_ x: UnsafeMutablePointer<Float>, _ width: Int, _ table: UnsafePointer<Float>, _ headDim: Int) {
    let half = headDim / 2
    var head = 0
    while head < width {
        let a = x + head
        let b = x + (head &+ half)
        var j = 0
        while j &+ 8 <= half {
            let cosine = load8(table, j), sine = load8(table, half &+ j)
            let va = load8(a, j), vb = load8(b, j)
            store8(va * cosine - vb * sine, a, j)
            store8(vb * cosine + va * sine, b, j)
            j &+= 8
        }
        while j < half {
            let cosine = table[j], sine = table[half &+ j]
            let va = a[j], vb = b[j]
            a[j] = va * cosine - vb * sine
            b[j] = vb * cosine + va * sine
            j &+= 1
        }
        head &+= headDim
    }
}

/// `out[j] = silu(gate[j]) * up[j]` over `count` elements.
@inlinable
func siluMulRow(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
    let one = Vec8(repeating: 1)
    var j = 0
    while j &+ 8 <= count {
        let g = load8(gate, j)
        store8(g / (one + exp8(-g)) * load8(up, j), out, j)
        j &+= 8
    }
    while j < count {
        let g = gate[j]
        out[j] = g / (1 + exp1(-g)) * up[j]
        j &+= 1
    }
}

/// `out = x + y` over `count` elements.
@inlinable
func addRow(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
    var j = 0
    while j &+ 8 <= count {
        store8(load8(x, j) + load8(y, j), out, j)
        j &+= 8
    }
    while j < count {
        out[j] = x[j] + y[j]
        j &+= 1
    }
}

/// Row `i` of the rope table for one position: cosines then sines, times `scale`, in f32.
@inlinable
func ropeTableRow(_ position: Int32, _ inverseFrequencies: UnsafePointer<Float>, _ half: Int, _ scale: Float, _ out: UnsafeMutablePointer<Float>) {
    let p = Float(position)
    for j in 0..<half {
        let angle = p * inverseFrequencies[j]
        out[j] = cosf(angle) * scale
        out[half &+ j] = sinf(angle) * scale
    }
}
