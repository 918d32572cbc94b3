// RadixServe: a captured and replayed step against the same step run eagerly on the same device.

import Backends

extension OpCertification {
    /// The tensors of one small decoder layer (hidden 32, 4 query heads and 2 KV heads of 8) and its cache.
    struct CaptureLayer {
        static let (hidden, heads, kvHeads, headDim, vocabulary) = (32, 4, 2, 8, 50)
        var table, inputNorm, qkv, output, up: Tensor
        var state, normed, projected, ropeTable, attended, gated, activated, logits: Tensor
        var cache: any KVCacheStorage

        init(_ backend: any ComputeBackend, rows: Int, sequences: Int, pageSize: Int, kvDType: DType, weightDType: DType) throws {
            var inputs = OpInputs(seed: 51)
            let (h, q, kv) = (Self.hidden, Self.heads * Self.headDim, Self.kvHeads * Self.headDim)
            func weight(_ rows: Int, _ columns: Int, scale: Float = 0.3) throws -> Tensor {
                let values = inputs.values(rows * columns, scale: scale)
                return try backend.makeWeightTensor(values, rows: rows, columns: columns, dtype: weightDType)
            }
            table = try weight(Self.vocabulary, h, scale: 1)
            inputNorm = try weight(1, h, scale: 1)
            qkv = try backend.prepareMatmulWeight(try weight(q + 2 * kv, h))
            output = try backend.prepareMatmulWeight(try weight(h, q))
            up = try backend.prepareMatmulWeight(try weight(2 * h, h))
            (state, normed, attended, activated) = (
                try backend.makeTensor(rows: rows, columns: h), try backend.makeTensor(rows: rows, columns: h),
                try backend.makeTensor(rows: rows, columns: q), try backend.makeTensor(rows: rows, columns: h))
            projected = try backend.makeTensor(rows: rows, columns: q + 2 * kv)
            ropeTable = try backend.makeTensor(rows: rows, columns: Self.headDim)
            gated = try backend.makeTensor(rows: rows, columns: 2 * h)
            logits = try backend.makeTensor(rows: sequences, columns: h)
            cache = try backend.makeKVCache(KVCacheSpec(layerCount: 1, kvHeadCount: Self.kvHeads, headDim: Self.headDim,
                pageSize: pageSize, pageCount: 8, dtype: kvDType))
        }

        /// Every op of a decoder layer, in the order a model issues them, after the step's ``ComputeBackend/beginStep(_:)``.
        func run(_ backend: any ComputeBackend) {
            let (q, kv, d) = (Self.heads * Self.headDim, Self.kvHeads * Self.headDim, Self.headDim)
            let frequencies = OpCertification.inverseFrequencies(headDim: d, theta: 10_000)
            backend.embedding(table: table, out: state)
            backend.rmsNorm(state, weight: inputNorm, epsilon: 1e-6, out: normed)
            backend.matmul(normed, weight: qkv, bias: nil, out: projected)
            backend.ropeTable(inverseFrequencies: frequencies, scale: 1, out: ropeTable)
            backend.rope(projected.columns(0, count: q), table: ropeTable, headDim: d)
            backend.rope(projected.columns(q, count: kv), table: ropeTable, headDim: d)
            backend.storeKV(key: projected.columns(q, count: kv), value: projected.columns(q + kv, count: kv), cache: cache, layer: 0)
            backend.attention(
                query: projected.columns(0, count: q), cache: cache, layer: 0, scale: 1 / Float(d).squareRoot(), out: attended)
            backend.matmul(attended, weight: output, bias: nil, out: normed)
            backend.add(state, normed, out: state)
            backend.matmul(state, weight: up, bias: nil, out: gated)
            backend.siluMul(gated, out: activated)
            backend.add(state, activated, out: state)
            backend.gatherRows(state, out: logits)
        }
    }

    /// Three decode steps of two sequences (crossing a page end): run eagerly on one backend, and
    /// captured at the first step and replayed at every step on another. The replays must give
    /// the same bits as the eager steps, each from its own step inputs.
    static func stepCaptureCheck(_ device: any ComputeDevice) -> CertificationCheck {
        let name = "step-capture.replay"
        let capabilities = device.capabilities
        guard let kvDType = [DType.f32, .bf16, .f16].first(where: capabilities.kvCacheDTypes.contains),
            let weightDType = [DType.f32, .bf16, .f16].first(where: { device.supportsAllOps(weightDType: $0) }),
            let pageSize = pageSize(near: 2, capabilities.pageSizes)
        else {
            return CertificationCheck(.ops, name, .fail, figure: "no step to capture",
                detail: "the device claims no KV dtype, no weight dtype for every op, or no page size")
        }
        let pagesPerSequence = (3 + pageSize - 1) / pageSize
        func inputs(_ position: Int) -> StepInputs {
            var step = StepInputs()
            for s in 0..<2 {
                let pages = (0..<pagesPerSequence).map { Int32(s * pagesPerSequence + $0) }
                step.append(
                    tokens: [Int32(7 + 11 * s + position)], startPosition: position, pages: pages, pageSize: pageSize, needsLogits: true)
            }
            step.logitRows.reverse()
            return step
        }
        var results: [[Float]] = []
        do {
            for isCaptured in [false, true] {
                let backend = try device.makeBackend(threads: 2)
                let layer = try CaptureLayer(
                    backend, rows: 2, sequences: 2, pageSize: pageSize, kvDType: kvDType, weightDType: weightDType)
                var outputs: [Float] = []
                var recorded: (any CapturedStep)?
                for position in 0..<3 {
                    try backend.beginStep(inputs(position))
                    if isCaptured {
                        if recorded == nil {
                            try backend.beginCapture()
                            layer.run(backend)
                            recorded = try backend.endCapture()
                        }
                        try backend.replay(recorded!)
                    } else {
                        layer.run(backend)
                    }
                    try backend.endStep()
                    backend.synchronize()
                    outputs += backend.read(layer.logits)
                }
                results.append(outputs)
            }
        } catch {
            return CertificationCheck(.ops, name, .fail, figure: "the device failed", detail: "\(error)")
        }
        let (eager, replayed) = (results[0], results[1])
        let differing = zip(eager, replayed).enumerated().filter { $0.element.0.bitPattern != $0.element.1.bitPattern }
        let distinct = Set(eager.map(\.bitPattern)).count
        var detail = differing.first.map { index, pair in
            let width = CaptureLayer.hidden
            let place = "step \(index / (2 * width)), logit row \((index / width) % 2), column \(index % width)"
            return "\(place): replayed \(exact(pair.1)), eager \(exact(pair.0))"
        } ?? ""
        if distinct <= 10 { detail = "the eager steps computed only \(distinct) distinct values" }
        let passed = differing.isEmpty && distinct > 10
        return CertificationCheck(.ops, name, passed ? .pass : .fail,
            figure: "\(eager.count - differing.count)/\(eager.count) values bit-identical over 3 replayed steps", detail: detail,
            values: ["values": Double(eager.count), "differing": Double(differing.count)])
    }
}
