import Backends
import CBLAS

/// Attention for a block of query rows through two GEMMs: gathers the KV head's keys and values
/// for every position the block can see into contiguous f32 scratch (widening bf16), computes
/// `S = scale·Q·Kᵀ`, applies the causal mask and a row softmax, then `O = S·V`. Query rows are
/// ordered `[row][head]`.
@inlinable
func attendBlock<E: KVElement>(
    _: E.Type, _ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, scratch: ScratchArena
) {
    let d = op.headDim
    let heads = Int(item.headCount)
    let blockRows = Int(item.rowCount) &* heads
    let visible = seq.position(ofRow: Int(item.rowStart + item.rowCount) - 1) &+ 1
    let q = scratch.query(blockRows &* d)
    let k = scratch.keys(visible &* d)
    let v = scratch.values(visible &* d)
    let s = scratch.scores(blockRows &* visible)
    for r in 0..<Int(item.rowCount) {
        for h in 0..<heads {
            (q + (r &* heads &+ h) &* d).update(
                from: op.query + ((Int(item.rowStart) &+ r) &* op.queryStride &+ (Int(item.headStart) &+ h) &* d), count: d)
        }
    }
    forEachPage(E.self, op, item, seq, count: visible, cache: op.keys) { start, end, slots in
        widen(slots, E.dtype, into: k + start &* d, (end &- start) &* d)
    }
    forEachPage(E.self, op, item, seq, count: visible, cache: op.values) { start, end, slots in
        widen(slots, E.dtype, into: v + start &* d, (end &- start) &* d)
    }
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(blockRows), Int32(visible), Int32(d),
        op.scale, q, Int32(d), k, Int32(d), 0, s, Int32(visible))
    for r in 0..<Int(item.rowCount) {
        let allowed = seq.position(ofRow: Int(item.rowStart) &+ r) &+ 1
        for h in 0..<heads {
            let scores = s + (r &* heads &+ h) &* visible
            softmaxInPlace(scores, allowed)
            (scores + allowed).update(repeating: 0, count: visible &- allowed)
        }
    }
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(blockRows), Int32(d), Int32(visible),
        1, s, Int32(visible), v, Int32(d), 0, q, Int32(d))
    for r in 0..<Int(item.rowCount) {
        for h in 0..<heads {
            (op.out + ((Int(item.rowStart) &+ r) &* op.outStride &+ (Int(item.headStart) &+ h) &* d)).update(
                from: q + (r &* heads &+ h) &* d, count: d)
        }
    }
}

/// `x[0..<count] = softmax(scale · x[0..<count])` in f32, computed as `exp(scale · (x − max))`
/// (`scale` > 0, so the maximum of `x` is the maximum of `scale · x`).
@inlinable
func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, _ count: Int, scale: Float = 1) {
    var maximum = -Float.infinity
    var i = 0
    if count >= 8 {
        var m = load8(x, 0)
        i = 8
        while i &+ 8 <= count {
            m = lanewiseMax(m, load8(x, i))
            i &+= 8
        }
        maximum = m.max()
    }
    while i < count {
        maximum = max(maximum, x[i])
        i &+= 1
    }
    let shift = Vec8(repeating: maximum), factor = Vec8(repeating: scale)
    var total = Vec8()
    i = 0
    while i &+ 8 <= count {
        let e = exp8((load8(x, i) - shift) * factor)
        store8(e, x, i)
        total += e
        i &+= 8
    }
    var sum = total.sum()
    while i < count {
        let e = exp1((x[i] - maximum) * scale)
        x[i] = e
        sum += e
        i &+= 1
    }
    let inverse = Vec8(repeating: 1 / sum)
    i = 0
    while i &+ 8 <= count {
        store8(load8(x, i) * inverse, x, i)
        i &+= 8
    }
    while i < count {
        x[i] *= inverse[0]
        i &+= 1
    }
}
