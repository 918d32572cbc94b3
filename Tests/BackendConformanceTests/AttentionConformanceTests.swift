import Accelerators
import Backends
import Testing
import TestSupport

/// Paged attention (and the KV writes that feed it) against the reference, over batches that mix
/// decode rows, short chunks and long prefill chunks with prefixes already in the cache, scattered
/// page tables, GQA/MQA and head sizes off the SIMD width.
@Suite struct AttentionConformanceTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        var heads: Int
        var kvHeads: Int
        var headDim: Int
        var pageSize: Int
        /// (cached tokens before this step, new tokens this step) per sequence.
        var sequences: [(cached: Int, new: Int)]
        var testDescription: String { "h\(heads)/kv\(kvHeads) d\(headDim) p\(pageSize) \(sequences)" }
    }

    static let shapes: [Shape] = [
        Shape(heads: 4, kvHeads: 2, headDim: 16, pageSize: 4, sequences: [(0, 1)]),
        Shape(heads: 4, kvHeads: 4, headDim: 8, pageSize: 16, sequences: [(0, 37)]),
        Shape(heads: 8, kvHeads: 2, headDim: 16, pageSize: 4, sequences: [(5, 1), (0, 9), (12, 1), (3, 30)]),
        Shape(heads: 4, kvHeads: 1, headDim: 12, pageSize: 3, sequences: [(20, 3), (0, 2), (7, 1)]),
        Shape(heads: 2, kvHeads: 2, headDim: 64, pageSize: 16, sequences: [(40, 150), (0, 200)]),
        Shape(heads: 6, kvHeads: 3, headDim: 20, pageSize: 5, sequences: [(11, 17), (1, 1), (0, 1)]),
        // Decode rows at the head sizes of real models: head pairs with 4-key score blocks, a head
        // left over from an odd group, 8-key score blocks with page-end remainders, 64-feature
        // value blocks and a narrower last block (80 = 64 + 16).
        Shape(heads: 8, kvHeads: 4, headDim: 64, pageSize: 16, sequences: [(100, 1), (7, 1), (0, 1), (33, 2)]),
        Shape(heads: 4, kvHeads: 2, headDim: 80, pageSize: 5, sequences: [(41, 1), (9, 3)]),
        Shape(heads: 2, kvHeads: 1, headDim: 128, pageSize: 12, sequences: [(70, 1), (20, 4)]),
        Shape(heads: 6, kvHeads: 2, headDim: 32, pageSize: 7, sequences: [(50, 1), (3, 1), (0, 2)]),
    ]

    @Test(arguments: BackendRegistry.names, shapes)
    func matchesReference(device name: String, shape: Shape) throws {
        let backend = try BackendRegistry.device(named: name).makeBackend(threads: 2)
        let reference = try BackendRegistry.device(named: "reference").makeBackend(threads: 1)
        var inputs = OpInputs(seed: 7)
        let (d, kvWidth) = (shape.headDim, shape.kvHeads * shape.headDim)
        // Scattered pages: each sequence owns pages in shuffled order, so tables are not contiguous.
        let pagesNeeded = shape.sequences.map { ($0.cached + $0.new + shape.pageSize - 1) / shape.pageSize }
        let pageCount = pagesNeeded.reduce(0, +) + 3
        var free = Array(Int32(0)..<Int32(pageCount)).shuffled(using: &inputs.random)
        var tables: [[Int32]] = []
        for count in pagesNeeded {
            tables.append(Array(free.prefix(count)))
            free.removeFirst(count)
        }
        // The cached prefix is written with one storeKV call, the step's tokens with another.
        var prefixSlots: [Int32] = []
        var stepSlots: [Int32] = []
        var batch = AttentionBatch()
        for (s, sequence) in shape.sequences.enumerated() {
            for position in 0..<(sequence.cached + sequence.new) {
                let slot = tables[s][position / shape.pageSize] * Int32(shape.pageSize) + Int32(position % shape.pageSize)
                if position < sequence.cached { prefixSlots.append(slot) } else { stepSlots.append(slot) }
            }
            batch.append(queryCount: sequence.new, contextLength: sequence.cached + sequence.new, pages: tables[s])
        }
        let prefixKeys = inputs.values(prefixSlots.count * kvWidth)
        let prefixValues = inputs.values(prefixSlots.count * kvWidth)
        let stepKeys = inputs.values(stepSlots.count * kvWidth)
        let stepValues = inputs.values(stepSlots.count * kvWidth)
        let query = inputs.values(stepSlots.count * shape.heads * d, scale: 2)
        let cacheBytes = KVCacheView.byteCount(
            layerCount: 2, pageCount: pageCount, pageSize: shape.pageSize, kvHeadCount: shape.kvHeads, headDim: d)
        let (got, want) = try compare((backend, reference), rows: stepSlots.count, columns: shape.heads * d) { b, out in
            let cache = KVCacheView(
                key: try b.allocate(byteCount: cacheBytes, usage: .kvCache),
                value: try b.allocate(byteCount: cacheBytes, usage: .kvCache),
                layerCount: 2, pageCount: pageCount, pageSize: shape.pageSize, kvHeadCount: shape.kvHeads, headDim: d)
            if !prefixSlots.isEmpty {
                b.storeKV(key: try b.makeTensor(prefixKeys, rows: prefixSlots.count, columns: kvWidth),
                    value: try b.makeTensor(prefixValues, rows: prefixSlots.count, columns: kvWidth),
                    slotMapping: prefixSlots, cache: cache, layer: 1)
            }
            b.storeKV(key: try b.makeTensor(stepKeys, rows: stepSlots.count, columns: kvWidth),
                value: try b.makeTensor(stepValues, rows: stepSlots.count, columns: kvWidth),
                slotMapping: stepSlots, cache: cache, layer: 1)
            b.attention(query: try b.makeTensor(query, rows: stepSlots.count, columns: shape.heads * d), cache: cache,
                layer: 1, batch: batch, scale: 1 / Float(d).squareRoot(), out: out)
        }
        #expect(maxRelativeError(got, want) < BackendConformanceTests.tolerance)
    }
}
