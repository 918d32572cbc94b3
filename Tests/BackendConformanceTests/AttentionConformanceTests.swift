import BackendCatalog
import Foundation
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
        /// Sequences whose first `pages` page-table entries are the first member's (prefix-cache hits).
        var sharing: [(pages: Int, members: [Int])] = []
        var testDescription: String {
            "h\(heads)/kv\(kvHeads) d\(headDim) p\(pageSize) \(sequences)" + (sharing.isEmpty ? "" : " sharing \(sharing)")
        }
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
        Shape(heads: 6, kvHeads: 2, headDim: 64, pageSize: 16, sequences: [(50, 1), (15, 1), (0, 1)]),
        // Decode rows over shared prompt pages (one shared-prefix item per group and KV head), next
        // to rows that share too little, a prefill chunk over the same pages, and a second group.
        Shape(heads: 8, kvHeads: 4, headDim: 64, pageSize: 16,
            sequences: [(100, 1), (90, 1), (130, 1), (5, 1), (64, 1), (70, 20), (80, 1), (81, 1)],
            sharing: [(pages: 4, members: [0, 1, 2, 4, 5]), (pages: 5, members: [6, 7])]),
        // Single KV head, odd group, head size off the SIMD width, a member whose context ends
        // right after the shared pages, members that diverge at different pages.
        Shape(heads: 3, kvHeads: 1, headDim: 20, pageSize: 8, sequences: [(72, 1), (75, 1), (100, 1), (150, 1)],
            sharing: [(pages: 9, members: [0, 1, 2, 3]), (pages: 12, members: [2, 3])]),
        // More members than one item takes (split into near-equal slices).
        Shape(heads: 4, kvHeads: 2, headDim: 16, pageSize: 16, sequences: (0..<19).map { (80 + 3 * $0, 1) },
            sharing: [(pages: 5, members: Array(0..<19))]),
    ]

    /// A device and one KV cache dtype it claims.
    struct KVCase: CustomTestStringConvertible, Sendable {
        var device: String
        var dtype: DType
        var testDescription: String { "\(device) \(dtype) KV" }
    }

    /// Every (device, KV dtype) a registered device or the reference plugin lists in its capabilities.
    static let kvCases: [KVCase] = BackendConformanceTests.devices.flatMap { name in
        let device = try! BackendCatalog.device(named: name)
        return device.capabilities.kvCacheDTypes.sorted { $0.rawValue > $1.rawValue }.map { KVCase(device: name, dtype: $0) }
    }

    /// Tolerances of a cache in `dtype` against the f32 reference.
    ///
    /// - Same stored values: the reference attends over keys and values rounded to `dtype` exactly
    ///   as the device stores them, so only summation order and exp differ, as for every other op:
    ///   ``BackendConformanceTests/tolerance``. This pins down the device's rounding and that its
    ///   attention reads what it stored.
    /// - Unrounded values (bf16): rounding to nearest even leaves 8 significant bits, a relative
    ///   error per element of at most 2⁻⁹. A score `s = scale·q·k` then moves by at most
    ///   `ε = scale · 2⁻⁹ · Σᵢ|qᵢkᵢ| ≤ scale · 2⁻⁹ · headDim · max|q| · max|k|`; scores that move by
    ///   at most ε change each softmax weight by a factor within `e^{±2ε}`, so the weights move by
    ///   at most `e^{2ε} − 1` in L1 norm; the output `Σ pₜvₜ` then moves by at most
    ///   `(e^{2ε} − 1 + 2⁻⁹) · max|v|`. With these inputs (|q| ≤ 2, |k|, |v| ≤ 1, scale = 1/√d) that
    ///   is `e^{4√d/512} − 1 + 2⁻⁹` (0.024 at d = 8, 0.066 at d = 64, 0.094 at d = 128), plus the f32
    ///   tolerance. It is a worst case (every rounding error aligned): the errors measured on these
    ///   shapes are 5e-4 to 2.7e-3, 10–90× below it. It bounds accuracy, not correctness: an
    ///   indexing or masking error is caught by the as-stored comparison above.
    static func roundingBound(dtype: DType, headDim: Int) -> Float {
        guard dtype != .f32 else { return 0 }
        let epsilon = 2 * Float(headDim).squareRoot() * 0x1p-9
        return expf(2 * epsilon) - 1 + 0x1p-9
    }

    @Test(arguments: kvCases, shapes)
    func matchesReference(kv: KVCase, shape: Shape) throws {
        let backend = try BackendCatalog.device(named: kv.device).makeBackend(threads: 2)
        let reference = try BackendCatalog.device(named: "reference").makeBackend(threads: 1)
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
        for group in shape.sharing {
            for member in group.members.dropFirst() {
                precondition(shape.sequences[member].cached >= group.pages * shape.pageSize, "shared pages must be cached")
                tables[member].replaceSubrange(0..<group.pages, with: tables[group.members[0]].prefix(group.pages))
            }
        }
        // Positions in another sequence's pages are that sequence's to write.
        let borrowed = shape.sequences.indices.map { s in
            shape.sharing.filter { $0.members.dropFirst().contains(s) }.map { $0.pages * shape.pageSize }.max() ?? 0
        }
        // The cached prefix is written with one storeKV call, the step's tokens with another.
        var prefixSlots: [Int32] = []
        var stepSlots: [Int32] = []
        var batch = AttentionBatch()
        for (s, sequence) in shape.sequences.enumerated() {
            for position in borrowed[s]..<(sequence.cached + sequence.new) {
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
        let spec = KVCacheSpec(layerCount: 2, kvHeadCount: shape.kvHeads, headDim: d, pageSize: shape.pageSize, pageCount: pageCount)
        /// A cache of `dtype` on `b` holding the keys and values passed through `transform`.
        func filledCache(on b: any ComputeBackend, dtype: DType, _ transform: ([Float]) -> [Float] = { $0 }) throws
            -> any KVCacheStorage
        {
            var spec = spec
            spec.dtype = dtype
            let cache = try b.makeKVCache(spec)
            let bytesPerPage = try b.kvCacheBytesPerPage(spec)
            #expect(cache.spec == spec && cache.bytesPerPage == bytesPerPage)
            if !prefixSlots.isEmpty {
                try b.beginStep(StepInputs.forOp(slotMapping: prefixSlots))
                b.storeKV(key: try b.makeTensor(transform(prefixKeys), rows: prefixSlots.count, columns: kvWidth),
                    value: try b.makeTensor(transform(prefixValues), rows: prefixSlots.count, columns: kvWidth),
                    cache: cache, layer: 1)
            }
            try b.beginStep(StepInputs.forOp(slotMapping: stepSlots))
            b.storeKV(key: try b.makeTensor(transform(stepKeys), rows: stepSlots.count, columns: kvWidth),
                value: try b.makeTensor(transform(stepValues), rows: stepSlots.count, columns: kvWidth),
                cache: cache, layer: 1)
            return cache
        }
        let scale = 1 / Float(d).squareRoot()
        let width = shape.heads * d
        let rows = stepSlots.count
        func attend(_ b: any ComputeBackend, _ cache: any KVCacheStorage, _ out: Tensor) throws {
            try b.beginStep(StepInputs.forOp(attention: batch))
            b.attention(query: try b.makeTensor(query, rows: rows, columns: width), cache: cache, layer: 1,
                scale: scale, out: out)
        }
        let (got, want) = try compare((backend, reference), rows: rows, columns: width) { b, out in
            try attend(b, try filledCache(on: b, dtype: b === backend ? kv.dtype : .f32), out)
        }
        let bound = Self.roundingBound(dtype: kv.dtype, headDim: d)
        #expect(maxRelativeError(got, want) < BackendConformanceTests.tolerance + bound)
        if kv.dtype != .f32 {
            // The reference over the values as the device stores them.
            let stored = try reference.makeTensor(rows: rows, columns: width)
            try attend(reference, try filledCache(on: reference, dtype: .f32) { $0.map { $0.rounded(to: kv.dtype) } }, stored)
            #expect(maxRelativeError(got, reference.read(stored)) < BackendConformanceTests.tolerance, "\(kv.dtype) as stored")
        }
        // A sequence's rows do not depend on what else is in the batch (sharing pages included):
        // each sequence run alone gives the same bits.
        guard !shape.sharing.isEmpty else { return }
        let cache = try filledCache(on: backend, dtype: kv.dtype)
        for s in shape.sequences.indices {
            let rows = Int(batch.queryStarts[s])..<Int(batch.queryStarts[s + 1])
            var alone = AttentionBatch()
            alone.append(queryCount: rows.count, contextLength: Int(batch.contextLengths[s]), pages: tables[s])
            let out = try backend.makeTensor(rows: rows.count, columns: width)
            try backend.beginStep(StepInputs.forOp(attention: alone))
            backend.attention(
                query: try backend.makeTensor(Array(query[(rows.lowerBound * width)..<(rows.upperBound * width)]),
                    rows: rows.count, columns: width),
                cache: cache, layer: 1, scale: scale, out: out)
            backend.synchronize()
            #expect(backend.read(out) == Array(got[(rows.lowerBound * width)..<(rows.upperBound * width)]), "sequence \(s)")
        }
    }
}
