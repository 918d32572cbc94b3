import Backends
import CIntrinsics
import CKernels

/// Raw-pointer view of one attention call over a paged cache (layout in ``CPUKVCache``).
@usableFromInline
struct AttentionOperands {
    @usableFromInline var query: UnsafePointer<Float>
    @usableFromInline var queryStride: Int
    @usableFromInline var out: UnsafeMutablePointer<Float>
    @usableFromInline var outStride: Int
    /// Element 0 of the layer's keys and values, of ``kvDType``.
    @usableFromInline var keys: UnsafeRawPointer
    @usableFromInline var values: UnsafeRawPointer
    @usableFromInline var kvDType: DType
    @usableFromInline var pageSize: Int
    @usableFromInline var kvHeadCount: Int
    @usableFromInline var headDim: Int
    @usableFromInline var headCount: Int
    @usableFromInline var scale: Float
    /// Whether decode value sums of 64-feature heads run the AVX-512 C kernel (``CPUKernelSet/avx512``).
    @usableFromInline var usesAVX512ValueSums = false

    @usableFromInline var group: Int { headCount / kvHeadCount }

    /// Element offset, from ``keys`` or ``values``, of slot 0 of `page` for KV head `head`.
    @inlinable @inline(__always)
    func elementOffset(page: Int, head: Int) -> Int {
        ((page &* kvHeadCount &+ head) &* pageSize) &* headDim
    }
}

/// One unit of attention work: query rows `rowStart ..< rowStart + rowCount` (absolute rows of the
/// step) of one sequence whose new tokens begin at `sequenceRowStart`, for query heads
/// `headStart ..< headStart + headCount` that share KV head `kvHead`.
///
/// A shared-prefix item (`memberCount > 0`) instead covers the decode rows of `memberCount`
/// sequences that start with the same pages, listed from `memberStart` in the member table
/// (`sequence` and `rowStart` are the first member's); see
/// ``attendSharedPrefix(_:_:_:members:geometry:scratch:)``.
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

/// Floats of scratch ``attendRows(_:_:_:_:scores:)`` needs for a sequence of `contextLength`.
@inlinable @inline(__always)
func rowScratchCount(_ op: AttentionOperands, contextLength: Int) -> Int {
    2 &* (contextLength &+ op.headDim)
}

/// Attention row by row: for decode and short chunks, where the query block is too small for GEMM.
/// The item's query heads share one KV head. A page's keys are the rows of a small matrix, so the
/// scores are matrix–vector products (``KVElement/keyScores(_:keyCount:)``); heads go in
/// pairs, which loads every key once for both dot products, and one pass over the values
/// accumulates both weighted sums, 32 features at a time in 8 registers. A head left over from an
/// odd group goes alone, with 64 value features in registers. `scores` must hold
/// ``rowScratchCount(_:contextLength:)`` floats.
@inlinable
func attendRows<E: KVElement>(
    _: E.Type, _ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry,
    scores: UnsafeMutablePointer<Float>
) {
    let d = op.headDim
    let headEnd = Int(item.headStart + item.headCount)
    let permuted = scores + 2 &* seq.contextLength
    for row in Int(item.rowStart)..<Int(item.rowStart + item.rowCount) {
        let count = seq.position(ofRow: row) &+ 1
        var h = Int(item.headStart)
        while h &+ 2 <= headEnd && d % 32 == 0 {
            attendHeads(E.self, op, item, seq, row: row, head: h, pair: true, count: count, scores: scores, permuted: permuted)
            h &+= 2
        }
        while h < headEnd {
            attendHeads(E.self, op, item, seq, row: row, head: h, pair: false, count: count, scores: scores, permuted: permuted)
            h &+= 1
        }
    }
}

/// Calls `body(start, end, slots)` for each page holding the sequence's positions `0 ..< count`:
/// positions `start ..< end` sit in consecutive slots, `headDim` elements apart, from `slots`
/// (feature `feature` of the item's KV head in `cache`, which is `op.keys` or `op.values`).
@inlinable @inline(__always)
func forEachPage<E: KVElement>(
    _: E.Type, _ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, count: Int,
    cache: UnsafeRawPointer, feature: Int = 0, _ body: (_ start: Int, _ end: Int, _ slots: UnsafeRawPointer) -> Void
) {
    var start = 0
    var pageIndex = 0
    let pageBytes = op.pageSize &* op.headDim &* E.byteSize
    while start < count {
        let end = min(count, start &+ op.pageSize)
        let page = Int(seq.pages[pageIndex])
        if end < count && feature == 0 {
            // Pages are scattered, so the hardware prefetcher cannot run ahead into the next one. (A
            // pass over the later features of the same pages finds them in cache.)
            let next = cache + op.elementOffset(page: Int(seq.pages[pageIndex &+ 1]), head: Int(item.kvHead)) &* E.byteSize
            var line = 0
            while line < pageBytes {
                radixserve_prefetch(next + line)
                line &+= 64
            }
        }
        body(start, end, cache + (op.elementOffset(page: page, head: Int(item.kvHead)) &+ feature) &* E.byteSize)
        start = end
        pageIndex &+= 1
    }
}

/// Query head `h` of one row, or heads `h` and `h + 1` (`pair`, `headDim` a multiple of 32).
/// `permuted` has room for two heads' queries.
@inlinable
func attendHeads<E: KVElement>(
    _: E.Type, _ op: AttentionOperands, _ item: AttentionItem, _ seq: SequenceGeometry, row: Int, head h: Int,
    pair: Bool, count: Int, scores: UnsafeMutablePointer<Float>, permuted: UnsafeMutablePointer<Float>
) {
    let d = op.headDim
    let q = E.prepareQueries(op.query + (row &* op.queryStride &+ h &* d), rows: pair ? 2 : 1, headDim: d, scratch: permuted)
    forEachPage(E.self, op, item, seq, count: count, cache: op.keys) { start, end, keys in
        // Rows of `x` are the queries (adjacent heads are `d` apart), of the weight the page's keys;
        // head B's scores follow head A's `count` floats later.
        let product = MatVecOperands(
            x: q, xStride: d, weight: keys, bias: nil, out: scores + start, outStride: count, rows: pair ? 2 : 1,
            inFeatures: d)
        E.keyScores(product, keyCount: end &- start)
    }
    softmaxInPlace(scores, count, scale: op.scale)
    if pair { softmaxInPlace(scores + count, count, scale: op.scale) }
    let o = op.out + (row &* op.outStride &+ h &* d)
    if op.usesAVX512ValueSums && d == 64 {
        // Both heads' 64 sums in 8 registers, one pass over the values.
        let base = op.elementOffset(page: 0, head: Int(item.kvHead))
        let pageStride = op.elementOffset(page: 1, head: Int(item.kvHead)) &- base
        radixserve_weighted_values64_avx512(
            op.values + base &* E.byteSize, E.dtype == .bf16 ? 1 : 0, pageStride, seq.pages, op.pageSize, count, scores,
            pair ? scores + count : nil, o, pair ? o + d : nil)
        return
    }
    if pair {
        weightedValuesPair(E.self, op, item, seq, scores, count, o)
        return
    }
    var feature = 0
    while feature < d {
        let width = min(64, d &- feature)
        if width == 64 {
            weightedValues64(E.self, op, item, seq, scores, count, feature, o + feature)
        } else {
            weightedValuesTail(E.self, op, item, seq, scores, count, feature, width, o + feature)
        }
        feature &+= width
    }
}
