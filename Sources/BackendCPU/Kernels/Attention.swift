import Backends
import CBLAS

/// Raw-pointer view of one attention call over a paged cache (layout in ``KVCacheView``).
@usableFromInline
struct AttentionOperands {
    @usableFromInline var query: UnsafePointer<Float>
    @usableFromInline var queryStride: Int
    @usableFromInline var out: UnsafeMutablePointer<Float>
    @usableFromInline var outStride: Int
    @usableFromInline var keys: UnsafePointer<Float>
    @usableFromInline var values: UnsafePointer<Float>
    @usableFromInline var cache: KVCacheView
    @usableFromInline var layer: Int
    @usableFromInline var headCount: Int
    @usableFromInline var scale: Float

    @usableFromInline var headDim: Int { cache.headDim }
    @usableFromInline var group: Int { headCount / cache.kvHeadCount }
}

/// One unit of attention work: query rows `rowStart ..< rowStart + rowCount` (absolute rows of the
/// step) of one sequence whose new tokens begin at `sequenceRowStart`, for query heads
/// `headStart ..< headStart + headCount` that share KV head `kvHead`.
@usableFromInline
struct AttentionItem {
    @usableFromInline var sequence: Int32
    @usableFromInline var kvHead: Int32
    @usableFromInline var headStart: Int32
    @usableFromInline var headCount: Int32
    @usableFromInline var rowStart: Int32
    @usableFromInline var rowCount: Int32
}

/// Per-sequence facts an item needs.
@usableFromInline
struct SequenceGeometry {
    @usableFromInline var sequenceRowStart: Int
    @usableFromInline var queryCount: Int
    @usableFromInline var contextLength: Int
    @usableFromInline var pages: UnsafePointer<Int32>

    /// Absolute position of step row `row`.
    @inlinable func position(ofRow row: Int) -> Int { contextLength - queryCount + (row - sequenceRowStart) }
}

/// Attention row by row: for decode and short chunks, where the query block is too small for GEMM.
/// The item's query heads share one KV head. They go in pairs: one pass over the keys scores both
/// heads of a pair (every key vector loaded once for two dot products), and one pass over the values
/// accumulates both weighted sums, 32 features at a time in 8 registers. A head left over from an odd
/// group goes alone: 8 keys per score block, 64 value features in registers. `scores` must hold
/// `2 · contextLength` floats.
@inlinable
func attendRows(_ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, scores: UnsafeMutablePointer<Float>) {
    let d = op.headDim
    let headEnd = Int(item.headStart + item.headCount)
    for row in Int(item.rowStart)..<Int(item.rowStart + item.rowCount) {
        let count = seq.position(ofRow: row) &+ 1
        var h = Int(item.headStart)
        while h &+ 2 <= headEnd && d % 32 == 0 {
            attendHeadPair(op, item, seq, row: row, head: h, count: count, scores: scores)
            h &+= 2
        }
        while h < headEnd {
            attendHead(op, item, seq, row: row, head: h, count: count, scores: scores)
            h &+= 1
        }
    }
}

/// One query head of one row (see ``attendRows(_:_:_:scores:)``).
@inlinable
func attendHead(
    _ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, row: Int, head h: Int, count: Int,
    scores: UnsafeMutablePointer<Float>
) {
    let d = op.headDim
    let q = op.query + (row &* op.queryStride &+ h &* d)
    var t = 0
    var pageIndex = 0
    while t < count {
        let end = min(count, t &+ op.cache.pageSize)
        var key = op.keys + op.cache.elementOffset(layer: op.layer, page: Int(seq.pages[pageIndex]), head: Int(item.kvHead))
        while t &+ 8 <= end {
            scoreEightKeys(q, key, d, op.scale, scores + t)
            t &+= 8
            key += 8 &* d
        }
        while t < end {
            scores[t] = dot(q, key, d) * op.scale
            t &+= 1
            key += d
        }
        pageIndex &+= 1
    }
    softmaxInPlace(scores, count)
    let o = op.out + (row &* op.outStride &+ h &* d)
    var feature = 0
    while feature < d {
        let width = min(64, d &- feature)
        if width == 64 {
            weightedValues64(op, item, seq, scores, count, feature, o + feature)
        } else {
            weightedValuesTail(op, item, seq, scores, count, feature, width, o + feature)
        }
        feature &+= width
    }
}

/// Query heads `h` and `h + 1` of one row, which share the item's KV head; `d` is a multiple of 32.
@inlinable
func attendHeadPair(
    _ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, row: Int, head h: Int, count: Int,
    scores: UnsafeMutablePointer<Float>
) {
    let d = op.headDim
    let qA = op.query + (row &* op.queryStride &+ h &* d), qB = qA + d
    let scoresA = scores, scoresB = scores + count
    var t = 0
    var pageIndex = 0
    while t < count {
        let end = min(count, t &+ op.cache.pageSize)
        var key = op.keys + op.cache.elementOffset(layer: op.layer, page: Int(seq.pages[pageIndex]), head: Int(item.kvHead))
        while t &+ 4 <= end {
            scoreFourKeysTwoHeads(qA, qB, key, d, op.scale, scoresA + t, scoresB + t)
            t &+= 4
            key += 4 &* d
        }
        while t < end {
            scoresA[t] = dot(qA, key, d) * op.scale
            scoresB[t] = dot(qB, key, d) * op.scale
            t &+= 1
            key += d
        }
        pageIndex &+= 1
    }
    softmaxInPlace(scoresA, count)
    softmaxInPlace(scoresB, count)
    let oA = op.out + (row &* op.outStride &+ h &* d), oB = oA + d
    var feature = 0
    while feature < d {
        var a0 = Vec8(), a1 = Vec8(), a2 = Vec8(), a3 = Vec8(), b0 = Vec8(), b1 = Vec8(), b2 = Vec8(), b3 = Vec8()
        t = 0
        pageIndex = 0
        while t < count {
            let end = min(count, t &+ op.cache.pageSize)
            var v = op.values + (op.cache.elementOffset(layer: op.layer, page: Int(seq.pages[pageIndex]), head: Int(item.kvHead)) &+ feature)
            while t < end {
                let pA = Vec8(repeating: scoresA[t]), pB = Vec8(repeating: scoresB[t])
                let v0 = load8(v, 0), v1 = load8(v, 8), v2 = load8(v, 16), v3 = load8(v, 24)
                a0.addProduct(v0, pA)
                a1.addProduct(v1, pA)
                a2.addProduct(v2, pA)
                a3.addProduct(v3, pA)
                b0.addProduct(v0, pB)
                b1.addProduct(v1, pB)
                b2.addProduct(v2, pB)
                b3.addProduct(v3, pB)
                t &+= 1
                v += d
            }
            pageIndex &+= 1
        }
        store8(a0, oA, feature)
        store8(a1, oA, feature &+ 8)
        store8(a2, oA, feature &+ 16)
        store8(a3, oA, feature &+ 24)
        store8(b0, oB, feature)
        store8(b1, oB, feature &+ 8)
        store8(b2, oB, feature &+ 16)
        store8(b3, oB, feature &+ 24)
        feature &+= 32
    }
}

/// Scores of 4 consecutive keys (`keys + j·d`) against two queries: one load per key element for
/// both dot products.
@inlinable @inline(__always)
func scoreFourKeysTwoHeads(
    _ qA: UnsafePointer<Float>, _ qB: UnsafePointer<Float>, _ keys: UnsafePointer<Float>, _ d: Int, _ scale: Float,
    _ scoresA: UnsafeMutablePointer<Float>, _ scoresB: UnsafeMutablePointer<Float>
) {
    let k0 = keys, k1 = k0 + d, k2 = k1 + d, k3 = k2 + d
    var a0 = Vec8(), a1 = Vec8(), a2 = Vec8(), a3 = Vec8(), b0 = Vec8(), b1 = Vec8(), b2 = Vec8(), b3 = Vec8()
    var i = 0
    while i &+ 8 <= d {
        let x = load8(qA, i), y = load8(qB, i)
        let w0 = load8(k0, i), w1 = load8(k1, i), w2 = load8(k2, i), w3 = load8(k3, i)
        a0.addProduct(w0, x)
        b0.addProduct(w0, y)
        a1.addProduct(w1, x)
        b1.addProduct(w1, y)
        a2.addProduct(w2, x)
        b2.addProduct(w2, y)
        a3.addProduct(w3, x)
        b3.addProduct(w3, y)
        i &+= 8
    }
    scoresA[0] = a0.sum() * scale
    scoresA[1] = a1.sum() * scale
    scoresA[2] = a2.sum() * scale
    scoresA[3] = a3.sum() * scale
    scoresB[0] = b0.sum() * scale
    scoresB[1] = b1.sum() * scale
    scoresB[2] = b2.sum() * scale
    scoresB[3] = b3.sum() * scale
}

/// `scores[j] = scale · q·k_j` for 8 consecutive keys `keys + j·d`.
@inlinable @inline(__always)
func scoreEightKeys(_ q: UnsafePointer<Float>, _ keys: UnsafePointer<Float>, _ d: Int, _ scale: Float, _ scores: UnsafeMutablePointer<Float>) {
    let k0 = keys, k1 = k0 + d, k2 = k1 + d, k3 = k2 + d, k4 = k3 + d, k5 = k4 + d, k6 = k5 + d, k7 = k6 + d
    var a0 = Vec8(), a1 = Vec8(), a2 = Vec8(), a3 = Vec8(), a4 = Vec8(), a5 = Vec8(), a6 = Vec8(), a7 = Vec8()
    var i = 0
    while i &+ 8 <= d {
        let v = load8(q, i)
        a0.addProduct(load8(k0, i), v)
        a1.addProduct(load8(k1, i), v)
        a2.addProduct(load8(k2, i), v)
        a3.addProduct(load8(k3, i), v)
        a4.addProduct(load8(k4, i), v)
        a5.addProduct(load8(k5, i), v)
        a6.addProduct(load8(k6, i), v)
        a7.addProduct(load8(k7, i), v)
        i &+= 8
    }
    var sums = Vec8(a0.sum(), a1.sum(), a2.sum(), a3.sum(), a4.sum(), a5.sum(), a6.sum(), a7.sum())
    while i < d {
        sums += Vec8(k0[i], k1[i], k2[i], k3[i], k4[i], k5[i], k6[i], k7[i]) * q[i]
        i &+= 1
    }
    store8(sums * scale, scores, 0)
}

/// `o[0..<64] = Σ_t p_t · v_t[feature ..< feature + 64]` with the 64 sums in 8 registers.
@inlinable @inline(__always)
func weightedValues64(
    _ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, _ p: UnsafePointer<Float>, _ count: Int,
    _ feature: Int, _ o: UnsafeMutablePointer<Float>
) {
    let d = op.headDim
    var a0 = Vec8(), a1 = Vec8(), a2 = Vec8(), a3 = Vec8(), a4 = Vec8(), a5 = Vec8(), a6 = Vec8(), a7 = Vec8()
    var t = 0
    var pageIndex = 0
    while t < count {
        var v = op.values + (op.cache.elementOffset(layer: op.layer, page: Int(seq.pages[pageIndex]), head: Int(item.kvHead)) &+ feature)
        let end = min(count, t &+ op.cache.pageSize)
        while t < end {
            let weight = Vec8(repeating: p[t])
            a0.addProduct(load8(v, 0), weight)
            a1.addProduct(load8(v, 8), weight)
            a2.addProduct(load8(v, 16), weight)
            a3.addProduct(load8(v, 24), weight)
            a4.addProduct(load8(v, 32), weight)
            a5.addProduct(load8(v, 40), weight)
            a6.addProduct(load8(v, 48), weight)
            a7.addProduct(load8(v, 56), weight)
            t &+= 1
            v += d
        }
        pageIndex &+= 1
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
func weightedValuesTail(
    _ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, _ p: UnsafePointer<Float>, _ count: Int,
    _ feature: Int, _ width: Int, _ o: UnsafeMutablePointer<Float>
) {
    o.update(repeating: 0, count: width)
    var t = 0
    var pageIndex = 0
    while t < count {
        var v = op.values + (op.cache.elementOffset(layer: op.layer, page: Int(seq.pages[pageIndex]), head: Int(item.kvHead)) &+ feature)
        let end = min(count, t &+ op.cache.pageSize)
        while t < end {
            axpy(p[t], v, o, width)
            t &+= 1
            v += op.headDim
        }
        pageIndex &+= 1
    }
}

/// Attention for a block of query rows through two GEMMs: gathers the KV head's keys and values
/// for every position the block can see into contiguous scratch, computes `S = scale·Q·Kᵀ`, applies
/// the causal mask and a row softmax, then `O = S·V`. Query rows are ordered `[row][head]`.
@inlinable
func attendBlock(_ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, scratch: ScratchArena) {
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
    var t = 0
    var pageIndex = 0
    while t < visible {
        let base = op.cache.elementOffset(layer: op.layer, page: Int(seq.pages[pageIndex]), head: Int(item.kvHead))
        let count = min(op.cache.pageSize, visible &- t)
        (k + t &* d).update(from: op.keys + base, count: count &* d)
        (v + t &* d).update(from: op.values + base, count: count &* d)
        t &+= count
        pageIndex &+= 1
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

/// `x[0..<count] = softmax(x[0..<count])` in f32 with the maximum subtracted first.
@inlinable
func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, _ count: Int) {
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
    let shift = Vec8(repeating: maximum)
    var total = Vec8()
    i = 0
    while i &+ 8 <= count {
        let e = exp8(load8(x, i) - shift)
        store8(e, x, i)
        total += e
        i &+= 8
    }
    var sum = total.sum()
    while i < count {
        let e = exp1(x[i] - maximum)
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
