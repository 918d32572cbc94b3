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

/// Attention row by row with vector dot products: for decode and short chunks, where the query
/// block is too small for GEMM. `scores` must hold `contextLength` floats.
@inlinable
func attendRows(_ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, scores: UnsafeMutablePointer<Float>) {
    let d = op.headDim
    let pageSize = op.cache.pageSize
    for row in Int(item.rowStart)..<Int(item.rowStart + item.rowCount) {
        let last = seq.position(ofRow: row)
        for h in Int(item.headStart)..<Int(item.headStart + item.headCount) {
            let q = op.query + (row &* op.queryStride &+ h &* d)
            var t = 0
            var pageIndex = 0
            while t <= last {
                let base = op.cache.elementOffset(layer: op.layer, page: Int(seq.pages[pageIndex]), head: Int(item.kvHead))
                let end = min(last &+ 1, t &+ pageSize)
                var slot = 0
                while t < end {
                    scores[t] = dot(q, op.keys + (base &+ slot &* d), d) * op.scale
                    t &+= 1
                    slot &+= 1
                }
                pageIndex &+= 1
            }
            softmaxInPlace(scores, last &+ 1)
            let o = op.out + (row &* op.outStride &+ h &* d)
            o.update(repeating: 0, count: d)
            t = 0
            pageIndex = 0
            while t <= last {
                let base = op.cache.elementOffset(layer: op.layer, page: Int(seq.pages[pageIndex]), head: Int(item.kvHead))
                let end = min(last &+ 1, t &+ pageSize)
                var slot = 0
                while t < end {
                    axpy(scores[t], op.values + (base &+ slot &* d), o, d)
                    t &+= 1
                    slot &+= 1
                }
                pageIndex &+= 1
            }
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
