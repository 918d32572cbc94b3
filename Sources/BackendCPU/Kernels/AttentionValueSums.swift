// The value half of decode attention: `o = Σ_t p_t · v_t` over a sequence's positions in a paged
// cache, each sum in position order with one fused multiply-add per position (the AVX-512 C
// kernels keep that order, so both kernel sets give the same bits).

/// Two query heads' sums (scores `p` and `p + count`, outputs `o` and `o + headDim`), `headDim` a
/// multiple of 32: one pass over the values per 32 features, both heads' sums in 8 registers.
@inlinable
func weightedValuesPair<E: KVElement>(
    _: E.Type, _ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, _ p: UnsafePointer<Float>,
    _ count: Int, _ o: UnsafeMutablePointer<Float>
) {
    let d = op.headDim
    let pB = p + count
    let slotBytes = d &* E.byteSize
    var feature = 0
    while feature < d {
        var a0 = Vec8(), a1 = Vec8(), a2 = Vec8(), a3 = Vec8(), b0 = Vec8(), b1 = Vec8(), b2 = Vec8(), b3 = Vec8()
        forEachPage(E.self, op, item, seq, count: count, cache: op.values, feature: feature) { start, end, slots in
            var v = slots
            for t in start..<end {
                let wA = Vec8(repeating: p[t]), wB = Vec8(repeating: pB[t])
                let v0 = E.load8(v, 0), v1 = E.load8(v, 8), v2 = E.load8(v, 16), v3 = E.load8(v, 24)
                a0.addProduct(v0, wA)
                a1.addProduct(v1, wA)
                a2.addProduct(v2, wA)
                a3.addProduct(v3, wA)
                b0.addProduct(v0, wB)
                b1.addProduct(v1, wB)
                b2.addProduct(v2, wB)
                b3.addProduct(v3, wB)
                v += slotBytes
            }
        }
        store8(a0, o, feature)
        store8(a1, o, feature &+ 8)
        store8(a2, o, feature &+ 16)
        store8(a3, o, feature &+ 24)
        store8(b0, o + d, feature)
        store8(b1, o + d, feature &+ 8)
        store8(b2, o + d, feature &+ 16)
        store8(b3, o + d, feature &+ 24)
        feature &+= 32
    }
}

/// `o[0..<64] = Σ_t p_t · v_t[feature ..< feature + 64]` with the 64 sums in 8 registers.
@inlinable @inline(__always)
func weightedValues64<E: KVElement>(
    _: E.Type, _ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, _ p: UnsafePointer<Float>,
    _ count: Int, _ feature: Int, _ o: UnsafeMutablePointer<Float>
) {
    let slotBytes = op.headDim &* E.byteSize
    var a0 = Vec8(), a1 = Vec8(), a2 = Vec8(), a3 = Vec8(), a4 = Vec8(), a5 = Vec8(), a6 = Vec8(), a7 = Vec8()
    forEachPage(E.self, op, item, seq, count: count, cache: op.values, feature: feature) { start, end, slots in
        var v = slots
        for t in start..<end {
            let weight = Vec8(repeating: p[t])
            a0.addProduct(E.load8(v, 0), weight)
            a1.addProduct(E.load8(v, 8), weight)
            a2.addProduct(E.load8(v, 16), weight)
            a3.addProduct(E.load8(v, 24), weight)
            a4.addProduct(E.load8(v, 32), weight)
            a5.addProduct(E.load8(v, 40), weight)
            a6.addProduct(E.load8(v, 48), weight)
            a7.addProduct(E.load8(v, 56), weight)
            v += slotBytes
        }
    }
    store8(a0, o, 0)
    store8(a1, o, 8)
    store8(a2, o, 16)
    store8(a3, o, 24)
    store8(a4, o, 32)
    store8(a5, o, 40)
    store8(a6, o, 48)
    store8(a7, o, 56)
}

/// `o[0..<width] = Σ_t p_t · v_t[feature ..< feature + width]` for a last block narrower than 64.
@inlinable
func weightedValuesTail<E: KVElement>(
    _: E.Type, _ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, _ p: UnsafePointer<Float>,
    _ count: Int, _ feature: Int, _ width: Int, _ o: UnsafeMutablePointer<Float>
) {
    let slotBytes = op.headDim &* E.byteSize
    o.update(repeating: 0, count: width)
    forEachPage(E.self, op, item, seq, count: count, cache: op.values, feature: feature) { start, end, slots in
        var v = slots
        for t in start..<end {
            let weight = Vec8(repeating: p[t])
            var i = 0
            while i &+ 8 <= width {
                var sum = load8(o, i)
                sum.addProduct(weight, E.load8(v, i))
                store8(sum, o, i)
                i &+= 8
            }
            while i < width {
                o[i] += p[t] * E.load(v, i)
                i &+= 1
            }
            v += slotBytes
        }
    }
}
