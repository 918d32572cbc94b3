import Backends

/// Operands of the row-wise elementwise kernels, passed to pool threads by pointer.
struct RowwiseOperands {
    var source: UnsafeMutablePointer<Float>
    var sourceStride: Int
    var other: UnsafeMutablePointer<Float>
    var otherStride: Int
    var target: UnsafeMutablePointer<Float>
    var targetStride: Int
    var weight: UnsafeRawPointer
    var weightDType: DType
    var rows: Int
    var width: Int
    /// Group width (rmsNorm) or head size (rope).
    var group: Int
    var epsilon: Float
}

/// Operands of a matmul on a packed weight.
struct PanelWork {
    var operands: MatMulOperands
    var panelCount: Int
    var panelBytes: Int
    var kernels: CPUKernelSet
}

/// Operands of a matrix–vector or GEMM call.
struct MatMulWork {
    var matVec: MatVecOperands
    var gemm: MatMulOperands
    var weightDType: DType
    var outFeatures: Int
    var scratch: [ScratchArena]
    var blockRows: Int
}

extension CPUBackend {
    public func embedding(table: Tensor, out: Tensor) {
        let tokenIDs = step.tokenIDs
        precondition(out.rows == tokenIDs.count && out.columns == table.columns, "embedding shape")
        let width = table.columns
        for (i, id) in tokenIDs.enumerated() {
            precondition(id >= 0 && Int(id) < table.rows, "token id out of range")
            widen(table.raw + Int(id) * table.rowStride * table.dtype.byteSize, table.dtype, into: out.floats + i * out.rowStride, width)
        }
    }

    public func matmul(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor) {
        precondition(x.columns == weight.columns && out.rows == x.rows && out.columns == weight.rows, "matmul shape")
        precondition(weight.isContiguous && bias.map { $0.columns == weight.rows } ?? true, "matmul weight/bias")
        let biasPointer = bias.map { UnsafePointer($0.floats) }
        if let quantized = weight.buffer as? QuantizedWeights {
            precondition(weight.byteOffset == 0 && quantized.outFeatures == weight.rows && quantized.inFeatures == weight.columns,
                "a quantized weight cannot be sliced")
            return matmul(x, quantized: quantized, bias: biasPointer, out: out)
        }
        if let packed = weight.buffer as? PackedWeights {
            precondition(weight.byteOffset == 0 && packed.outFeatures == weight.rows && packed.inFeatures == weight.columns,
                "a packed weight cannot be sliced")
            return matmul(x, packed: packed, bias: biasPointer, out: out)
        }
        if isBatchInvariant && x.rows > 1 {
            // One row at a time through the matrix–vector kernel: the same sums as a single row.
            for row in 0..<x.rows { matmul(x.rows(row, count: 1), weight: weight, bias: bias, out: out.rows(row, count: 1)) }
            return
        }
        var work = MatMulWork(
            matVec: MatVecOperands(
                x: x.floats, xStride: x.rowStride, weight: weight.raw, bias: biasPointer, out: out.floats,
                outStride: out.rowStride, rows: x.rows, inFeatures: weight.columns),
            gemm: MatMulOperands(
                x: x.floats, xStride: x.rowStride, weight: weight.raw, weightDType: weight.dtype, bias: biasPointer,
                out: out.floats, outStride: out.rowStride, rows: x.rows, outFeatures: weight.rows,
                inFeatures: weight.columns),
            weightDType: weight.dtype, outFeatures: weight.rows, scratch: scratch, blockRows: Self.widenBlockRows)
        let streamsWeights = x.rows <= Self.gemvMaxRows || (weight.dtype == .f32 && x.rows <= Self.batchedMatVecMaxRows)
        if !streamsWeights {
            // GEMM: one OpenBLAS call per part, f16/bf16 weights widened block by block. Several
            // parts per thread let a thread that finishes early take over a slow thread's share.
            withUnsafePointer(to: work) { pointer in
                pool.run(parts: pool.threadCount * Self.gemmPartsPerThread, context: pointer) { raw, part, parts, thread in
                    let work = raw.assumingMemoryBound(to: MatMulWork.self).pointee
                    let k = work.gemm.inFeatures
                    let buffer = work.weightDType == .f32 ? work.scratch[thread].slot(0, 1)
                        : work.scratch[thread].slot(0, work.blockRows * k)
                    gemmColumns(
                        work.gemm, columns: ThreadPool.partition(work.outFeatures, ith: part, nth: parts, alignment: 16),
                        scratch: buffer, blockRows: work.blockRows)
                }
            }
            return
        }
        if weight.dtype == .bf16 {
            // The bf16 kernel reads x in pair order (see MatVec.swift).
            let k = weight.columns
            let permuted = permutedInput.slot(0, x.rows * k)
            for m in 0..<x.rows { permuteForPairs(x.floats + m * x.rowStride, permuted + m * k, k) }
            work.matVec.x = UnsafePointer(permuted)
            work.matVec.xStride = k
        }
        // Memory-bound: several parts per thread keep both threads busy to the end.
        parallel(elements: weight.elementCount, partsPerThread: 4, context: work) { raw, part, parts, _ in
            let work = raw.assumingMemoryBound(to: MatMulWork.self).pointee
            let columns = ThreadPool.partition(work.outFeatures, ith: part, nth: parts, alignment: 16)
            switch work.weightDType {
            case .f32:
                if work.matVec.rows >= 2 { matVecF32Batched(work.matVec, columns: columns) } else { matVecF32(work.matVec, columns: columns) }
            case .bf16: matVecBF16(work.matVec, columns: columns)
            case .f16: matVecF16(work.matVec, columns: columns)
            }
        }
    }

    public func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, out: Tensor) {
        precondition(x.columns % weight.columns == 0 && out.rows == x.rows && out.columns == x.columns, "rmsNorm shape")
        let operands = rowwise(x, other: x, out: out, weight: weight, group: weight.columns, epsilon: epsilon)
        parallel(elements: x.elementCount, context: operands) { raw, part, parts, _ in
            let o = raw.assumingMemoryBound(to: RowwiseOperands.self).pointee
            for r in ThreadPool.partition(o.rows, ith: part, nth: parts) {
                var g = 0
                while g < o.width {
                    rmsNormGroup(o.source + r * o.sourceStride + g, o.weight, o.weightDType,
                        o.target + r * o.targetStride + g, o.group, o.epsilon)
                    g += o.group
                }
            }
        }
    }

    public func ropeTable(inverseFrequencies: [Float], scale: Float, out: Tensor) {
        let positions = step.positions
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
        let operands = rowwise(x, other: table, out: x, weight: nil, group: headDim, epsilon: 0)
        parallel(elements: x.elementCount, context: operands) { raw, part, parts, _ in
            let o = raw.assumingMemoryBound(to: RowwiseOperands.self).pointee
            for r in ThreadPool.partition(o.rows, ith: part, nth: parts) {
                ropeRow(o.target + r * o.targetStride, o.width, o.other + r * o.otherStride, o.group)
            }
        }
    }

    public func siluMul(_ x: Tensor, out: Tensor) {
        precondition(x.columns == 2 * out.columns && x.rows == out.rows, "siluMul shape")
        let operands = rowwise(x, other: x, out: out, weight: nil, group: 0, epsilon: 0)
        parallel(elements: out.elementCount, context: operands) { raw, part, parts, _ in
            let o = raw.assumingMemoryBound(to: RowwiseOperands.self).pointee
            let width = o.width / 2
            for r in ThreadPool.partition(o.rows, ith: part, nth: parts) {
                siluMulRow(o.source + r * o.sourceStride, o.source + r * o.sourceStride + width, o.target + r * o.targetStride, width)
            }
        }
    }

    public func add(_ x: Tensor, _ y: Tensor, out: Tensor) {
        precondition(x.rows == y.rows && x.columns == y.columns && out.rows == x.rows && out.columns == x.columns, "add shape")
        let operands = rowwise(x, other: y, out: out, weight: nil, group: 0, epsilon: 0)
        parallel(elements: x.elementCount, context: operands) { raw, part, parts, _ in
            let o = raw.assumingMemoryBound(to: RowwiseOperands.self).pointee
            for r in ThreadPool.partition(o.rows, ith: part, nth: parts) {
                addRow(o.source + r * o.sourceStride, o.other + r * o.otherStride, o.target + r * o.targetStride, o.width)
            }
        }
    }

    public func gatherRows(_ x: Tensor, out: Tensor) {
        let rows = step.logitRows
        precondition(out.rows == rows.count && out.columns == x.columns, "gatherRows shape")
        for (i, row) in rows.enumerated() {
            precondition(row >= 0 && Int(row) < x.rows, "row out of range")
            (out.floats + i * out.rowStride).update(from: x.floats + Int(row) * x.rowStride, count: x.columns)
        }
    }

    /// Packs the operands of a row-wise kernel; `width` is `x.columns`.
    private func rowwise(_ x: Tensor, other: Tensor, out: Tensor, weight: Tensor?, group: Int, epsilon: Float) -> RowwiseOperands {
        RowwiseOperands(
            source: x.floats, sourceStride: x.rowStride, other: other.floats, otherStride: other.rowStride,
            target: out.floats, targetStride: out.rowStride, weight: weight.map(\.raw) ?? UnsafeRawPointer(x.floats),
            weightDType: weight?.dtype ?? .f32, rows: x.rows, width: x.columns, group: group, epsilon: epsilon)
    }
}

extension CPUBackend {
    /// Matmul on a packed weight through the panel kernel (any row count).
    func matmul(_ x: Tensor, packed: PackedWeights, bias: UnsafePointer<Float>?, out: Tensor) {
        var operands = MatMulOperands(
            x: x.floats, xStride: x.rowStride, weight: UnsafeRawPointer(packed.hostAddress!), weightDType: packed.dtype,
            bias: bias, out: out.floats, outStride: out.rowStride, rows: x.rows, outFeatures: packed.outFeatures,
            inFeatures: packed.inFeatures)
        let groupRows = kernels.panelGroupRows
        let grouped = packedInput.slot(0, (x.rows + groupRows - 1) / groupRows * groupRows * x.columns)
        packRowGroups(x.floats, stride: x.rowStride, rows: x.rows, columns: x.columns, kernels: kernels, into: grouped)
        operands.x = UnsafePointer(grouped)
        operands.xStride = x.columns
        let work = PanelWork(operands: operands, panelCount: packed.panelCount, panelBytes: packed.panelBytes, kernels: kernels)
        // Several parts per thread let a thread that finishes early take over a slow thread's share.
        parallel(elements: packed.outFeatures * packed.inFeatures * x.rows, partsPerThread: 4, context: work) {
            raw, part, parts, _ in
            let work = raw.assumingMemoryBound(to: PanelWork.self).pointee
            let panels = ThreadPool.partition(work.panelCount, ith: part, nth: parts)
            switch work.operands.weightDType {
            case .f32: panelMatMul(F32Panel.self, work.operands, panels: panels, panelBytes: work.panelBytes, kernels: work.kernels)
            case .bf16: panelMatMul(BF16Panel.self, work.operands, panels: panels, panelBytes: work.panelBytes, kernels: work.kernels)
            case .f16: panelMatMul(F16Panel.self, work.operands, panels: panels, panelBytes: work.panelBytes, kernels: work.kernels)
            }
        }
    }
}

