import Backends

extension CPUBackend {
    public func embedding(tokenIDs: [Int32], table: Tensor, out: Tensor) {
        precondition(out.rows == tokenIDs.count && out.columns == table.columns, "embedding shape")
        let width = table.columns
        for (i, id) in tokenIDs.enumerated() {
            precondition(id >= 0 && Int(id) < table.rows, "token id \(id) out of range 0..<\(table.rows)")
            widen(table.raw + Int(id) * table.rowStride * table.dtype.byteSize, table.dtype, into: out.floats + i * out.rowStride, width)
        }
    }

    public func matmul(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor) {
        precondition(x.columns == weight.columns && out.rows == x.rows && out.columns == weight.rows, "matmul shape")
        precondition(weight.isContiguous && bias.map { $0.columns == weight.rows } ?? true, "matmul weight/bias")
        if x.rows <= Self.gemvMaxRows {
            matVec(x, weight: weight, bias: bias, out: out)
            return
        }
        let op = MatMulOperands(
            x: x.floats, xStride: x.rowStride, weight: weight.raw, weightDType: weight.dtype,
            bias: bias.map { UnsafePointer($0.floats) }, out: out.floats, outStride: out.rowStride,
            rows: x.rows, outFeatures: weight.rows, inFeatures: weight.columns)
        let blockRows = Self.widenBlockRows
        let scratch = self.scratch
        pool.run { ith, nth, thread in
            let buffer = weight.dtype == .f32 ? scratch[thread].slot(0, 1) : scratch[thread].slot(0, blockRows * op.inFeatures)
            gemmColumns(
                op, columns: ThreadPool.partition(op.outFeatures, ith: ith, nth: nth, alignment: 16),
                scratch: buffer, blockRows: blockRows)
        }
    }

    /// Few rows: stream the weights once through the matrix–vector kernels.
    private func matVec(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor) {
        var op = MatVecOperands(
            x: x.floats, xStride: x.rowStride, weight: weight.raw, bias: bias.map { UnsafePointer($0.floats) },
            out: out.floats, outStride: out.rowStride, rows: x.rows, inFeatures: weight.columns)
        if weight.dtype == .bf16 {
            let k = weight.columns
            let permuted = permutedInput.slot(0, x.rows * k)
            for m in 0..<x.rows { permuteForPairs(x.floats + m * x.rowStride, permuted + m * k, k) }
            op.x = UnsafePointer(permuted)
            op.xStride = k
        }
        let dtype = weight.dtype
        let outFeatures = weight.rows
        // Memory-bound: several parts per thread keep both threads busy to the end.
        parallel(elements: weight.elementCount, partsPerThread: 4) { ith, nth, _ in
            let columns = ThreadPool.partition(outFeatures, ith: ith, nth: nth, alignment: 16)
            switch dtype {
            case .f32: matVecF32(op, columns: columns)
            case .bf16: matVecBF16(op, columns: columns)
            case .f16: matVecF16(op, columns: columns)
            }
        }
    }

    public func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, out: Tensor) {
        let group = weight.columns
        precondition(x.columns % group == 0 && out.rows == x.rows && out.columns == x.columns, "rmsNorm shape")
        let (source, target, w, dtype) = (x.floats, out.floats, weight.raw, weight.dtype)
        let (inStride, outStride, width) = (x.rowStride, out.rowStride, x.columns)
        parallel(elements: x.elementCount) { ith, nth, _ in
            for r in ThreadPool.partition(x.rows, ith: ith, nth: nth) {
                var g = 0
                while g < width {
                    rmsNormGroup(source + r * inStride + g, w, dtype, target + r * outStride + g, group, epsilon)
                    g += group
                }
            }
        }
    }

    public func ropeTable(positions: [Int32], inverseFrequencies: [Float], scale: Float, out: Tensor) {
        let half = inverseFrequencies.count
        precondition(out.rows == positions.count && out.columns == 2 * half, "ropeTable shape")
        inverseFrequencies.withUnsafeBufferPointer { frequencies in
            for (i, position) in positions.enumerated() {
                ropeTableRow(position, frequencies.baseAddress!, half, scale, out.floats + i * out.rowStride)
            }
        }
    }

    public func rope(_ x: Tensor, table: Tensor, headDim: Int) {
        precondition(x.columns % headDim == 0 && table.rows == x.rows && table.columns == headDim, "rope shape")
        let (base, stride, width, cosSin, tableStride) = (x.floats, x.rowStride, x.columns, table.floats, table.rowStride)
        parallel(elements: x.elementCount) { ith, nth, _ in
            for r in ThreadPool.partition(x.rows, ith: ith, nth: nth) {
                ropeRow(base + r * stride, width, cosSin + r * tableStride, headDim)
            }
        }
    }

    public func storeKV(key: Tensor, value: Tensor, slotMapping: [Int32], cache: KVCacheView, layer: Int) {
        let d = cache.headDim
        precondition(key.columns == cache.kvHeadCount * d && value.columns == key.columns, "storeKV shape")
        precondition(key.rows == slotMapping.count && value.rows == key.rows, "storeKV rows")
        let keys = cache.key.hostAddress!.assumingMemoryBound(to: Float.self)
        let values = cache.value.hostAddress!.assumingMemoryBound(to: Float.self)
        for (i, slot) in slotMapping.enumerated() {
            let page = Int(slot) / cache.pageSize
            let offset = Int(slot) % cache.pageSize
            precondition(page >= 0 && page < cache.pageCount, "slot \(slot) outside the cache")
            for h in 0..<cache.kvHeadCount {
                let target = cache.elementOffset(layer: layer, page: page, head: h) + offset * d
                (keys + target).update(from: key.floats + i * key.rowStride + h * d, count: d)
                (values + target).update(from: value.floats + i * value.rowStride + h * d, count: d)
            }
        }
    }

    public func siluMul(_ x: Tensor, out: Tensor) {
        precondition(x.columns == 2 * out.columns && x.rows == out.rows, "siluMul shape")
        let (source, stride, target, outStride, width) = (x.floats, x.rowStride, out.floats, out.rowStride, out.columns)
        parallel(elements: out.elementCount) { ith, nth, _ in
            for r in ThreadPool.partition(x.rows, ith: ith, nth: nth) {
                siluMulRow(source + r * stride, source + r * stride + width, target + r * outStride, width)
            }
        }
    }

    public func add(_ x: Tensor, _ y: Tensor, out: Tensor) {
        precondition(x.rows == y.rows && x.columns == y.columns && out.rows == x.rows && out.columns == x.columns, "add shape")
        let (a, b, c) = (x.floats, y.floats, out.floats)
        let (aStride, bStride, cStride, width) = (x.rowStride, y.rowStride, out.rowStride, x.columns)
        parallel(elements: x.elementCount) { ith, nth, _ in
            for r in ThreadPool.partition(x.rows, ith: ith, nth: nth) {
                addRow(a + r * aStride, b + r * bStride, c + r * cStride, width)
            }
        }
    }

    public func gatherRows(_ x: Tensor, rows: [Int32], out: Tensor) {
        precondition(out.rows == rows.count && out.columns == x.columns, "gatherRows shape")
        for (i, row) in rows.enumerated() {
            precondition(row >= 0 && Int(row) < x.rows, "row \(row) out of range")
            (out.floats + i * out.rowStride).update(from: x.floats + Int(row) * x.rowStride, count: x.columns)
        }
    }
}
