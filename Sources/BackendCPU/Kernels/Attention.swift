import Backends
import CBLAS
import CIntrinsics
import CKernels

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
    /// Whether decode value sums of 64-feature heads run the AVX-512 C kernel (``CPUKernelSet/avx512``).
    @usableFromInline var usesAVX512ValueSums = false

    @usableFromInline var headDim: Int { cache.headDim }
    @usableFromInline var group: Int { headCount / cache.kvHeadCount }
}

/// One unit of attention work: query rows `rowStart ..< rowStart + rowCount` (absolute rows of the
/// step) of one sequence whose new tokens begin at `sequenceRowStart`, for query heads
/// `headStart ..< headStart + headCount` that share KV head `kvHead`.
///
/// A shared-prefix item (`memberCount > 0`) instead covers the decode rows of `memberCount`
/// sequences that start with the same pages, listed from `memberStart` in the member table
/// (`sequence` and `rowStart` are the first member's); see
/// ``attendSharedPrefix(_:_:members:geometry:scratch:)``.
@usableFromInline
struct AttentionItem {
    @usableFromInline var sequence: Int32
    @usableFromInline var kvHead: Int32
    @usableFromInline var headStart: Int32
    @usableFromInline var headCount: Int32
    @usableFromInline var rowStart: Int32
    @usableFromInline var rowCount: Int32
    @usableFromInline var memberStart: Int32 = 0
    @usableFromInline var memberCount: Int32 = 0
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
/// The item's query heads share one KV head. A page's keys are the rows of a small matrix, so the
/// scores are matrix–vector products (``matVecF32(_:columns:)``); heads go in pairs through
/// ``matVecF32Batched(_:columns:)``, which loads every key vector once for both dot products, and
/// one pass over the values accumulates both weighted sums, 32 features at a time in 8 registers.
/// A head left over from an odd group goes alone, with 64 value features in registers. `scores`
/// must hold `2 · contextLength` floats.
@inlinable
func attendRows(_ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, scores: UnsafeMutablePointer<Float>) {
    let d = op.headDim
    let headEnd = Int(item.headStart + item.headCount)
    for row in Int(item.rowStart)..<Int(item.rowStart + item.rowCount) {
        let count = seq.position(ofRow: row) &+ 1
        var h = Int(item.headStart)
        while h &+ 2 <= headEnd && d % 32 == 0 {
            attendHeads(op, item, seq, row: row, head: h, pair: true, count: count, scores: scores)
            h &+= 2
        }
        while h < headEnd {
            attendHeads(op, item, seq, row: row, head: h, pair: false, count: count, scores: scores)
            h &+= 1
        }
    }
}

/// Calls `body(start, end, slots)` for each page holding the sequence's positions `0 ..< count`:
/// positions `start ..< end` sit in consecutive slots, `headDim` floats apart, from `slots`
/// (feature `feature` of the item's KV head in `cache`, which is `op.keys` or `op.values`).
@inlinable @inline(__always)
func forEachPage(
    _ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, count: Int, cache: UnsafePointer<Float>,
    feature: Int = 0, _ body: (_ start: Int, _ end: Int, _ slots: UnsafePointer<Float>) -> Void
) {
    var start = 0
    var pageIndex = 0
    let pageBytes = op.cache.pageSize &* op.headDim &* MemoryLayout<Float>.size
    while start < count {
        let end = min(count, start &+ op.cache.pageSize)
        let page = Int(seq.pages[pageIndex])
        if end < count && feature == 0 {
            // Pages are scattered, so the hardware prefetcher cannot run ahead into the next one. (A
            // pass over the later features of the same pages finds them in cache.)
            let next = UnsafeRawPointer(
                cache + op.cache.elementOffset(layer: op.layer, page: Int(seq.pages[pageIndex &+ 1]), head: Int(item.kvHead)))
            var line = 0
            while line < pageBytes {
                radixserve_prefetch(next + line)
                line &+= 64
            }
        }
        body(start, end, cache + (op.cache.elementOffset(layer: op.layer, page: page, head: Int(item.kvHead)) &+ feature))
        start = end
        pageIndex &+= 1
    }
}

/// Query head `h` of one row, or heads `h` and `h + 1` (`pair`, `headDim` a multiple of 32).
@inlinable
func attendHeads(
    _ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, row: Int, head h: Int, pair: Bool,
    count: Int, scores: UnsafeMutablePointer<Float>
) {
    let d = op.headDim
    let q = op.query + (row &* op.queryStride &+ h &* d)
    forEachPage(op, item, seq, count: count, cache: op.keys) { start, end, keys in
        // Rows of `x` are the queries (adjacent heads are `d` apart), of the weight the page's keys;
        // head B's scores follow head A's `count` floats later.
        let product = MatVecOperands(
            x: q, xStride: d, weight: UnsafeRawPointer(keys), bias: nil, out: scores + start, outStride: count,
            rows: pair ? 2 : 1, inFeatures: d)
        if pair { matVecF32Batched(product, columns: 0..<(end &- start)) } else { matVecF32(product, columns: 0..<(end &- start)) }
    }
    softmaxInPlace(scores, count, scale: op.scale)
    let o = op.out + (row &* op.outStride &+ h &* d)
    if op.usesAVX512ValueSums && d == 64 {
        // Both heads' 64 sums in 8 registers, one pass over the values.
        if pair { softmaxInPlace(scores + count, count, scale: op.scale) }
        let base = op.cache.elementOffset(layer: op.layer, page: 0, head: Int(item.kvHead))
        let pageStride = op.cache.elementOffset(layer: op.layer, page: 1, head: Int(item.kvHead)) &- base
        radixserve_weighted_values64_avx512(
            op.values + base, pageStride, seq.pages, op.cache.pageSize, count, scores, pair ? scores + count : nil, o,
            pair ? o + d : nil)
        return
    }
    guard pair else {
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
        return
    }
    let scoresB = scores + count
    softmaxInPlace(scoresB, count, scale: op.scale)
    var feature = 0
    while feature < d {
        var a0 = Vec8(), a1 = Vec8(), a2 = Vec8(), a3 = Vec8(), b0 = Vec8(), b1 = Vec8(), b2 = Vec8(), b3 = Vec8()
        forEachPage(op, item, seq, count: count, cache: op.values, feature: feature) { start, end, slots in
            var v = slots
            for t in start..<end {
                let pA = Vec8(repeating: scores[t]), pB = Vec8(repeating: scoresB[t])
                let v0 = load8(v, 0), v1 = load8(v, 8), v2 = load8(v, 16), v3 = load8(v, 24)
                a0.addProduct(v0, pA)
                a1.addProduct(v1, pA)
                a2.addProduct(v2, pA)
                a3.addProduct(v3, pA)
                b0.addProduct(v0, pB)
                b1.addProduct(v1, pB)
                b2.addProduct(v2, pB)
                b3.addProduct(v3, pB)
                v += d
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
func weightedValues64(
    _ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, _ p: UnsafePointer<Float>, _ count: Int,
    _ feature: Int, _ o: UnsafeMutablePointer<Float>
) {
    let d = op.headDim
    var a0 = Vec8(), a1 = Vec8(), a2 = Vec8(), a3 = Vec8(), a4 = Vec8(), a5 = Vec8(), a6 = Vec8(), a7 = Vec8()
    forEachPage(op, item, seq, count: count, cache: op.values, feature: feature) { start, end, slots in
        var v = slots
        for t in start..<end {
            let weight = Vec8(repeating: p[t])
            a0.addProduct(load8(v, 0), weight)
            a1.addProduct(load8(v, 8), weight)
            a2.addProduct(load8(v, 16), weight)
            a3.addProduct(load8(v, 24), weight)
            a4.addProduct(load8(v, 32), weight)
            a5.addProduct(load8(v, 40), weight)
            a6.addProduct(load8(v, 48), weight)
            a7.addProduct(load8(v, 56), weight)
            v += d
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
func weightedValuesTail(
    _ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, _ p: UnsafePointer<Float>, _ count: Int,
    _ feature: Int, _ width: Int, _ o: UnsafeMutablePointer<Float>
) {
    o.update(repeating: 0, count: width)
    forEachPage(op, item, seq, count: count, cache: op.values, feature: feature) { start, end, slots in
        var v = slots
        for t in start..<end {
            axpy(p[t], v, o, width)
            v += op.headDim
        }
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
    forEachPage(op, item, seq, count: visible, cache: op.keys) { start, end, slots in
        (k + start &* d).update(from: slots, count: (end &- start) &* d)
    }
    forEachPage(op, item, seq, count: visible, cache: op.values) { start, end, slots in
        (v + start &* d).update(from: slots, count: (end &- start) &* d)
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
