// RadixServe: KV writes and paged attention over mixed batches, for each KV cache dtype the device claims.

import Backends

extension OpCertification {
    /// One attention step: its heads and the sequences of its batch.
    struct AttentionShape {
        var heads: Int
        var kvHeads: Int
        var headDim: Int
        /// Tokens already in the cache and new this step, per sequence.
        var sequences: [(cached: Int, new: Int)]
        /// Members whose first `tokens / pageSize` pages are the first member's (prefix-cache hits).
        var sharing: [(tokens: Int, members: [Int])] = []

        var description: String {
            let batch = sequences.map { "(\($0.cached), \($0.new))" }.joined(separator: " ")
            let shared = sharing.map { "\($0.tokens) tokens by \($0.members)" }.joined(separator: "; ")
            return "\(heads) heads / \(kvHeads) KV × \(headDim), (cached, new) \(batch)" + (sharing.isEmpty ? "" : ", sharing \(shared)")
        }

        /// Rows (new tokens) of the step.
        var rowCount: Int { sequences.map(\.new).reduce(0, +) }
    }

    /// The classes of attention steps for pages of `p` tokens: contexts that end exactly at a page
    /// end and one past it; decode rows next to prefill chunks over cached prefixes; GQA (4 and 2
    /// query heads per KV head) and MQA; head dims 16, 64, 80, 128; decode rows over shared pages.
    static func attentionClasses(pageSize p: Int, isFull: Bool) -> [(label: String, shapes: [AttentionShape])] {
        let mixed = AttentionShape(
            heads: 8, kvHeads: 2, headDim: 64, sequences: [(5, 1), (0, 37), (40, 1), (19, 30), (100, 1), (3, 2)])
        let shared = AttentionShape(heads: 8, kvHeads: 4, headDim: 64,
            sequences: [(100, 1), (90, 1), (130, 1), (64, 1), (70, 20), (80, 1), (81, 1)],
            sharing: [(64, [0, 1, 2, 3, 4]), (80, [5, 6])])
        var classes: [(String, [AttentionShape])] = [
            ("page-boundaries", [AttentionShape(heads: 4, kvHeads: 2, headDim: 64,
                sequences: [(p - 1, 1), (p, 1), (2 * p - 1, 1), (0, p), (p, p + 1), (2 * p, 1)])]),
            ("mixed-batch", [mixed]),
            ("mqa", [AttentionShape(heads: 4, kvHeads: 1, headDim: 80, sequences: [(30, 1), (0, 20), (7, 9), (63, 1)])]),
            ("head-dims-16-128", [
                AttentionShape(heads: 4, kvHeads: 2, headDim: 16, sequences: [(20, 1), (0, 13), (9, 4)]),
                AttentionShape(heads: 4, kvHeads: 2, headDim: 128, sequences: [(50, 1), (0, 24), (33, 3)]),
            ]),
            ("shared-prefix", [shared]),
        ]
        if isFull {
            classes += [
                ("long-context", [AttentionShape(heads: 4, kvHeads: 2, headDim: 128, sequences: [(400, 1), (200, 64), (0, 160)])]),
                ("many-decode-rows", [AttentionShape(heads: 8, kvHeads: 8, headDim: 64, sequences: (0..<24).map { (3 * $0 + 1, 1) })]),
            ]
        }
        return classes
    }

    /// The page size nearest `wanted` that `rule` allows (the smallest allowed above it first), or nil.
    static func pageSize(near wanted: Int, _ rule: PageSizeRule) -> Int? {
        switch rule {
        case .any: wanted
        case .multiples(let step): step >= 1 ? step * max(1, (wanted + step - 1) / step) : nil
        case .oneOf(let sizes): sizes.filter { $0 >= 1 }.min { (abs($0 - wanted), -$0) < (abs($1 - wanted), -$1) }
        }
    }

    static func attentionChecks(_ pair: OpPair, isFull: Bool) -> [CertificationCheck] {
        let capabilities = pair.device.capabilities
        guard pair.device.supports(OpDescriptor(.storeKV)) && pair.device.supports(OpDescriptor(.attention)) else {
            return [skip("attention", "the device does not support storeKV and attention")]
        }
        guard let pageSize = pageSize(near: 16, capabilities.pageSizes) else {
            return [CertificationCheck(.ops, "attention", .fail, figure: "no page size",
                detail: "the device allows no page size (\(capabilities.pageSizes))")]
        }
        var checks: [CertificationCheck] = []
        for dtype in [DType.f32, .bf16, .f16] {
            guard capabilities.kvCacheDTypes.contains(dtype) else {
                checks.append(skip("attention.\(dtype)", "KV cache dtype \(dtype) is not in the device's capabilities"))
                continue
            }
            var runs = attentionClasses(pageSize: pageSize, isFull: isFull).map {
                (label: $0.label, pageSize: pageSize, shapes: $0.shapes)
            }
            for extra in isFull ? [1, 64] : [] where extra != pageSize {
                let name = "attention.\(dtype).page-size-\(extra)"
                guard capabilities.pageSizes.allows(extra) else {
                    checks.append(skip(name, "pages of \(extra) tokens are not allowed (\(capabilities.pageSizes))"))
                    continue
                }
                let classes = attentionClasses(pageSize: extra, isFull: false).filter {
                    ["page-boundaries", "mixed-batch", "shared-prefix"].contains($0.label)
                }
                runs.append((label: "page-size-\(extra)", pageSize: extra, shapes: classes.flatMap(\.shapes)))
            }
            for (index, run) in runs.enumerated() {
                let shapes = run.shapes.filter { shape in shape.rowCount <= capabilities.maxRowsPerStep ?? .max }
                guard !shapes.isEmpty else {
                    checks.append(skip("attention.\(dtype).\(run.label)",
                        "every step has more rows than the device's limit of \(capabilities.maxRowsPerStep ?? 0)"))
                    continue
                }
                let length = shapes.map { shape in max(shape.headDim, shape.sequences.map { $0.cached + $0.new }.max()!) }.max() ?? 0
                checks.append(check("attention.\(dtype).\(run.label)", .attention, dtype: dtype, length: length) { measure in
                    var inputs = OpInputs(seed: 31 + UInt64(index))
                    for shape in shapes {
                        let (got, want) = try attend(pair, shape, pageSize: run.pageSize, dtype: dtype, inputs: &inputs)
                        measure.add(got: got, want: want, columns: shape.heads * shape.headDim,
                            shape: "\(shape.description), pages of \(run.pageSize)")
                    }
                })
            }
        }
        return checks
    }

    /// One step of `shape` on both backends: the cached prefixes are stored in a step of their own,
    /// then the step stores its new keys and values and attends, as a model's layer does, into
    /// layer 1 of a 2-layer cache over scattered pages. The device's cache is of `dtype`; the
    /// reference (f32 only) holds the same keys and values rounded to `dtype`, so only the
    /// arithmetic differs (a device that rounds differently, or reads what it did not store, fails).
    static func attend(_ pair: OpPair, _ shape: AttentionShape, pageSize p: Int, dtype: DType, inputs: inout OpInputs) throws
        -> (got: [Float], want: [Float])
    {
        // Scattered pages: each sequence owns pages in shuffled order, so no table is contiguous.
        let pagesNeeded = shape.sequences.map { ($0.cached + $0.new + p - 1) / p }
        let pageCount = pagesNeeded.reduce(0, +) + 3
        var free = Array(Int32(0)..<Int32(pageCount)).shuffled(using: &inputs.random)
        var tables: [[Int32]] = []
        for count in pagesNeeded {
            tables.append(Array(free.prefix(count)))
            free.removeFirst(count)
        }
        // Positions in pages shared from another sequence are that sequence's to write.
        var borrowed = [Int](repeating: 0, count: shape.sequences.count)
        for group in shape.sharing {
            let pages = group.tokens / p
            for member in group.members.dropFirst() {
                precondition(shape.sequences[member].cached >= pages * p, "shared pages must be cached")
                tables[member].replaceSubrange(0..<pages, with: tables[group.members[0]].prefix(pages))
                borrowed[member] = max(borrowed[member], pages * p)
            }
        }
        var prefixSlots: [Int32] = []
        var step = StepInputs()
        for (s, sequence) in shape.sequences.enumerated() {
            for position in borrowed[s]..<sequence.cached {
                prefixSlots.append(tables[s][position / p] * Int32(p) + Int32(position % p))
            }
            step.append(tokens: [Int32](repeating: 0, count: sequence.new), startPosition: sequence.cached, pages: tables[s],
                pageSize: p, needsLogits: true)
        }
        let kvWidth = shape.kvHeads * shape.headDim
        let (prefixKeys, prefixValues) = (inputs.values(prefixSlots.count * kvWidth), inputs.values(prefixSlots.count * kvWidth))
        let rows = step.tokenCount
        let (keys, values) = (inputs.values(rows * kvWidth), inputs.values(rows * kvWidth))
        let query = inputs.values(rows * shape.heads * shape.headDim, scale: 2)
        let spec = KVCacheSpec(layerCount: 2, kvHeadCount: shape.kvHeads, headDim: shape.headDim, pageSize: p, pageCount: pageCount)

        func body(_ backend: any ComputeBackend, _ out: Tensor) throws {
            let isDevice = backend === pair.backend
            var spec = spec
            spec.dtype = isDevice ? dtype : .f32
            let cache = try backend.makeKVCache(spec)
            // The device rounds to its dtype itself; the reference is given the rounded values.
            func tensor(_ values: [Float]) throws -> Tensor {
                let stored = isDevice ? values : values.map { $0.rounded(to: dtype) }
                return try backend.makeTensor(stored, rows: values.count / kvWidth, columns: kvWidth)
            }
            if !prefixSlots.isEmpty {
                try backend.beginStep(StepInputs.forOp(slotMapping: prefixSlots))
                backend.storeKV(key: try tensor(prefixKeys), value: try tensor(prefixValues), cache: cache, layer: 1)
                try backend.endStep()
            }
            try backend.beginStep(step)
            backend.storeKV(key: try tensor(keys), value: try tensor(values), cache: cache, layer: 1)
            backend.attention(query: try backend.makeTensor(query, rows: rows, columns: shape.heads * shape.headDim), cache: cache,
                layer: 1, scale: 1 / Float(shape.headDim).squareRoot(), out: out)
        }
        return try pair.run(rows: rows, columns: shape.heads * shape.headDim, body)
    }
}
