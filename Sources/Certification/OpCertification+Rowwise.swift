// RadixServe: the ops that work row by row: embedding, gather, add, silu·mul, RMSNorm and rotary embedding.

import Backends
import Foundation

extension OpCertification {
    static func rowwiseChecks(_ pair: OpPair, isFull: Bool) -> [CertificationCheck] {
        var checks: [CertificationCheck] = []
        let device = pair.device
        let embedding = claimedDTypes(.embedding, .embedding, on: device)
        checks += embedding.skipped
        for dtype in embedding.claimed { checks.append(embeddingCheck(pair, dtype: dtype, isFull: isFull)) }
        let norm = claimedDTypes(.rmsNorm, .rmsNorm, on: device)
        checks += norm.skipped
        for dtype in norm.claimed { checks += rmsNormChecks(pair, dtype: dtype, isFull: isFull) }
        for (kind, op, make) in [
            (OpKind.gatherRows, CertifiedOp.gatherRows, gatherCheck), (.add, .add, addCheck), (.siluMul, .siluMul, siluMulCheck),
            (.ropeTable, .ropeTable, ropeTableCheck), (.rope, .rope, ropeCheck),
        ] as [(OpKind, CertifiedOp, (OpPair, Bool) -> CertificationCheck)] {
            let isClaimed = device.supports(OpDescriptor(kind))
            checks.append(isClaimed ? make(pair, isFull) : skip(op.rawValue, "the device does not support \(kind)"))
        }
        return checks
    }

    /// Rows of a table of `dtype` by token id, ids repeated and at both ends of the vocabulary.
    static func embeddingCheck(_ pair: OpPair, dtype: DType, isFull: Bool) -> CertificationCheck {
        check("embedding.\(dtype).rows", .embedding, dtype: dtype) { measure in
            var inputs = OpInputs(seed: 11)
            for (vocabulary, width, tokens) in [(1000, 257, 37), (50, 16, 1)] + (isFull ? [(32_000, 1024, 300)] : []) {
                let table = inputs.values(vocabulary * width, scale: 4)
                var ids = (0..<tokens).map { _ in Int32(inputs.index(vocabulary)) }
                ids[0] = Int32(vocabulary - 1)
                if tokens > 3 { (ids[1], ids[2]) = (0, ids[3]) }
                let (got, want) = try pair.run(rows: tokens, columns: width) { backend, out in
                    let weights = try backend.makeWeightTensor(table, rows: vocabulary, columns: width, dtype: dtype)
                    try backend.beginStep(StepInputs.forOp(tokenIDs: ids))
                    backend.embedding(table: weights, out: out)
                }
                measure.add(got: got, want: want, columns: width, shape: "\(tokens) ids of a \(vocabulary)×\(width) table")
            }
        }
    }

    /// Rows of a strided activation picked (and repeated) by the step's logit rows.
    static func gatherCheck(_ pair: OpPair, isFull: Bool) -> CertificationCheck {
        check("gather-rows.f32.rows", .gatherRows, dtype: .f32) { measure in
            var inputs = OpInputs(seed: 12)
            for (rows, width, picked) in [(40, 257, [39, 0, 5, 5, 17] as [Int32]), (1, 8, [0])] {
                let x = inputs.values(rows * (width + 3))
                let (got, want) = try pair.run(rows: picked.count, columns: width) { backend, out in
                    let source = try backend.makeTensor(x, rows: rows, columns: width + 3).columns(3, count: width)
                    try backend.beginStep(StepInputs.forOp(logitRows: picked))
                    backend.gatherRows(source, out: out)
                }
                measure.add(got: got, want: want, columns: width, shape: "rows \(picked) of \(rows)×\(width)")
            }
        }
    }

    /// x + y, into a new tensor and in place (out aliasing x, then y), over values of very
    /// different magnitudes so that every sum rounds.
    static func addCheck(_ pair: OpPair, isFull: Bool) -> CertificationCheck {
        check("add.f32.rows", .add, dtype: .f32) { measure in
            var inputs = OpInputs(seed: 13)
            for (rows, width) in [(37, 257), (1, 17)] + (isFull ? [(300, 1030)] : []) {
                let x = inputs.values(rows * width, scale: 1000)
                let y = inputs.values(rows * width, scale: 1e-3)
                for aliasing in ["none", "x", "y"] {
                    let (got, want) = try pair.run(rows: rows, columns: width) { backend, out in
                        let a = try backend.makeTensor(x, rows: rows, columns: width)
                        let b = try backend.makeTensor(y, rows: rows, columns: width)
                        switch aliasing {
                        case "x":
                            x.withUnsafeBytes { backend.upload($0, to: out) }
                            backend.add(out, b, out: out)
                        case "y":
                            y.withUnsafeBytes { backend.upload($0, to: out) }
                            backend.add(a, out, out: out)
                        default:
                            backend.add(a, b, out: out)
                        }
                    }
                    measure.add(got: got, want: want, columns: width, shape: "\(rows)×\(width), out aliasing \(aliasing)")
                }
            }
        }
    }

    /// silu(gate)·up over gates mostly in [−8, 8], some at ±30 and ±60 (silu near 0 and near g).
    static func siluMulCheck(_ pair: OpPair, isFull: Bool) -> CertificationCheck {
        check("silu-mul.f32.rows", .siluMul, dtype: .f32) { measure in
            var inputs = OpInputs(seed: 14)
            for (rows, width) in [(1, 17), (8, 257), (37, 1000)] + (isFull ? [(256, 2752)] : []) {
                var x = inputs.values(rows * 2 * width, scale: 8)
                for (i, extreme) in [30, -30, 60, -60, 0].enumerated() where i < width {
                    x[i] = Float(extreme)
                }
                let (got, want) = try pair.run(rows: rows, columns: width) { backend, out in
                    backend.siluMul(try backend.makeTensor(x, rows: rows, columns: 2 * width), out: out)
                }
                let floor = ErrorBudget.of(.siluMul, dtype: .f32).ulpFloor
                measure.add(got: got, want: want, columns: width, shape: "\(rows)×\(width)", ulpFloor: floor)
            }
        }
    }

    /// RMSNorm over per-head groups (weight narrower than the row, as Qwen3's q/k norm) and over
    /// whole rows, with weights of `dtype`.
    static func rmsNormChecks(_ pair: OpPair, dtype: DType, isFull: Bool) -> [CertificationCheck] {
        let classes: [(String, [(rows: Int, columns: Int, group: Int)])] = [
            ("grouped", [(5, 8 * 64, 64), (3, 4 * 128, 128), (7, 2 * 80, 80)] + (isFull ? [(128, 32 * 128, 128)] : [])),
            ("full-rows", [(1, 257, 257), (37, 512, 512)] + (isFull ? [(128, 4096, 4096), (3, 5120, 5120)] : [])),
        ]
        return classes.map { label, shapes in
            check("rms-norm.\(dtype).\(label)", .rmsNorm, dtype: dtype, length: shapes.map(\.group).max()!) { measure in
                var inputs = OpInputs(seed: 15)
                for (rows, columns, group) in shapes {
                    let x = inputs.values(rows * columns, scale: 3)
                    let w = inputs.values(group)
                    let (got, want) = try pair.run(rows: rows, columns: columns) { backend, out in
                        backend.rmsNorm(try backend.makeTensor(x, rows: rows, columns: columns),
                            weight: try backend.makeWeightTensor(w, rows: 1, columns: group, dtype: dtype), epsilon: 1e-6, out: out)
                    }
                    measure.add(got: got, want: want, columns: columns, shape: "\(rows)×\(columns) in groups of \(group)")
                }
            }
        }
    }

    /// Positions of the rope-table and rope checks: odd ones, page-size neighbours and large ones
    /// (where a poor reduction of the angle shows).
    static func ropePositions(isFull: Bool) -> [Int32] {
        [0, 1, 3, 7, 15, 16, 17, 255, 4093, 32_767, 131_071, 500_000] + (isFull ? [1_000_003, 2_097_151] : [])
    }

    /// Inverse frequencies of Llama's rope for `headDim` at base `theta`.
    static func inverseFrequencies(headDim: Int, theta: Float) -> [Float] {
        (0..<(headDim / 2)).map { i in 1 / powf(theta, Float(2 * i) / Float(headDim)) }
    }

    static func ropeTableCheck(_ pair: OpPair, isFull: Bool) -> CertificationCheck {
        check("rope-table.f32.positions", .ropeTable, dtype: .f32) { measure in
            let positions = ropePositions(isFull: isFull)
            let heads: [(headDim: Int, theta: Float, scale: Float)] = [
                (16, 10_000, 1), (64, 500_000, 1), (80, 10_000, 0.8), (128, 1_000_000, 1),
            ]
            for (headDim, theta, scale) in heads {
                let frequencies = inverseFrequencies(headDim: headDim, theta: theta)
                let (got, want) = try pair.run(rows: positions.count, columns: headDim) { backend, out in
                    try backend.beginStep(StepInputs.forOp(positions: positions))
                    backend.ropeTable(inverseFrequencies: frequencies, scale: scale, out: out)
                }
                measure.add(got: got, want: want, columns: headDim, shape: "head dim \(headDim), θ \(Int(theta)), scale \(scale)",
                    ulpFloor: ErrorBudget.of(.ropeTable, dtype: .f32).ulpFloor)
            }
        }
    }

    /// The rotation over the reference's table, uploaded to both, on three heads per row.
    static func ropeCheck(_ pair: OpPair, isFull: Bool) -> CertificationCheck {
        check("rope.f32.heads", .rope, dtype: .f32) { measure in
            var inputs = OpInputs(seed: 16)
            let positions = ropePositions(isFull: isFull)
            let rows = positions.count
            for headDim in [16, 64, 80, 128] {
                let frequencies = inverseFrequencies(headDim: headDim, theta: 10_000)
                let table = try pair.output(of: pair.reference, rows: rows, columns: headDim) { backend, out in
                    try backend.beginStep(StepInputs.forOp(positions: positions))
                    backend.ropeTable(inverseFrequencies: frequencies, scale: 1, out: out)
                }
                let width = 3 * headDim
                let x = inputs.values(rows * width)
                let (got, want) = try pair.run(rows: rows, columns: width) { backend, out in
                    x.withUnsafeBytes { backend.upload($0, to: out) }
                    backend.rope(out, table: try backend.makeTensor(table, rows: rows, columns: headDim), headDim: headDim)
                }
                measure.add(got: got, want: want, columns: width, shape: "3 heads of \(headDim) at positions \(positions)")
            }
        }
    }
}
