import BackendCatalog
import Backends
import Testing
import TestSupport

/// The OpenCL plugin computes prefill rows in tiles (`attention_prefill`) and decode rows split-K
/// (`attention_partial`) with the same arithmetic in the same order, so a position's attention is
/// the same bits whichever kernel ran it: in a whole prompt, in a chunk over a cached prefix, or as
/// a one-row decode step. These steps cross a 256-key split and page ends, with padding in the
/// last tile and a decode row from another sequence in the batch.
@Suite(.enabled(if: Fixtures.openCLPluginBackend != nil, "the OpenCL plugin is not built here"))
struct OpenCLAttentionInvarianceTests {
    @Test(arguments: [DType.f32, .bf16, .f16])
    func rowsAreTheSameBitsWhicheverKernelRunsThem(kvDType: DType) throws {
        let backend = try BackendCatalog.device(named: Fixtures.openCLPluginBackend!).makeBackend(threads: 1)
        let (heads, kvHeads, headDim, pageSize, promptLength) = (4, 2, 24, 16, 301)
        let (width, kvWidth) = (heads * headDim, kvHeads * headDim)
        var inputs = OpInputs(seed: 11)
        // Sequence 0: the prompt, on pages 1…19 in reverse order; sequence 1: a 40-token context on page 0, 20, 21.
        let promptPages = (1...19).reversed().map(Int32.init)
        let otherPages: [Int32] = [0, 20, 21]
        let slot = { (pages: [Int32], position: Int) in pages[position / pageSize] * Int32(pageSize) + Int32(position % pageSize) }
        let promptSlots = (0..<promptLength).map { slot(promptPages, $0) }
        let otherSlots = (0..<40).map { slot(otherPages, $0) }
        var spec = KVCacheSpec(layerCount: 1, kvHeadCount: kvHeads, headDim: headDim, pageSize: pageSize, pageCount: 22)
        spec.dtype = kvDType
        let cache = try backend.makeKVCache(spec)
        let allSlots = promptSlots + otherSlots
        try backend.beginStep(StepInputs.forOp(slotMapping: allSlots))
        backend.storeKV(key: try backend.makeTensor(inputs.values(allSlots.count * kvWidth), rows: allSlots.count, columns: kvWidth),
            value: try backend.makeTensor(inputs.values(allSlots.count * kvWidth), rows: allSlots.count, columns: kvWidth),
            cache: cache, layer: 0)
        let promptQuery = inputs.values(promptLength * width, scale: 2)
        let otherQuery = inputs.values(width, scale: 2)

        /// Attention of `rows` of the prompt (cached before them: the rest of their prefix), after
        /// one decode row of sequence 1 when `withDecodeRow`.
        func attend(_ rows: Range<Int>, withDecodeRow: Bool) throws -> [Float] {
            var batch = AttentionBatch()
            var query: [Float] = []
            if withDecodeRow {
                batch.append(queryCount: 1, contextLength: 40, pages: otherPages)
                query += otherQuery
            }
            batch.append(queryCount: rows.count, contextLength: rows.upperBound, pages: promptPages)
            query += promptQuery[(rows.lowerBound * width)..<(rows.upperBound * width)]
            let count = query.count / width
            let out = try backend.makeTensor(rows: count, columns: width)
            try backend.beginStep(StepInputs.forOp(attention: batch))
            backend.attention(query: try backend.makeTensor(query, rows: count, columns: width), cache: cache, layer: 0,
                scale: 1 / Float(headDim).squareRoot(), out: out)
            try backend.endStep()
            backend.synchronize()
            return Array(backend.read(out).dropFirst(withDecodeRow ? width : 0))
        }
        let whole = try attend(0..<promptLength, withDecodeRow: true)
        #expect(try attend(0..<promptLength, withDecodeRow: false) == whole, "alone")
        for chunk in [100..<301, 255..<258, 3..<4] {
            let rows = try attend(chunk, withDecodeRow: chunk.count > 1)
            #expect(rows == Array(whole[(chunk.lowerBound * width)..<(chunk.upperBound * width)]), "chunk \(chunk)")
        }
        for position in [0, 15, 16, 255, 256, 300] {
            let row = try attend(position..<(position + 1), withDecodeRow: false)
            #expect(row == Array(whole[(position * width)..<((position + 1) * width)]), "decode row \(position)")
        }
    }
}
