// RadixServe: matmul with plain and device-prepared weights, at decode and prefill row counts.

import Backends

extension OpCertification {
    /// Shapes `(rows M, outputs N, depth K)` by class: decode steps (1–8 rows) and prefill chunks,
    /// with K and N off every SIMD width and blocking edge (17, 33, 65, 130, 257). Each shape runs
    /// with and without bias, except in the large classes of `isFull`, whose shapes alternate.
    static func matmulShapes(isFull: Bool) -> [(label: String, shapes: [(m: Int, n: Int, k: Int)])] {
        [
            ("decode-rows", [(1, 17, 257), (3, 257, 17), (5, 33, 64), (8, 64, 130)]),
            ("prefill-rows", [(37, 17, 257), (128, 65, 33), (37, 257, 64)]),
        ] + (isFull ? [
            ("large-decode-rows", [(1, 1024, 4096), (4, 2051, 1027)]),
            ("large-prefill-rows", [(256, 96, 1024), (130, 300, 520)]),
        ] : [])
    }

    static func matmulChecks(_ pair: OpPair, isFull: Bool) -> [CertificationCheck] {
        let (claimed, skipped) = claimedDTypes(.matmul, .matmul, on: pair.device)
        return skipped + claimed.flatMap { dtype in
            matmulShapes(isFull: isFull).flatMap { label, shapes in matmulChecks(pair, dtype: dtype, label: label, shapes: shapes) }
        }
    }

    /// `matmul.dtype.label` over plain weights with contiguous operands, and
    /// `matmul.dtype.prepared-label` over ``ComputeBackend/prepareMatmulWeight(_:)``'s layout with
    /// strided input and output views (as the model slices its fused projections); each shape with
    /// and without bias, against one reference result.
    static func matmulChecks(_ pair: OpPair, dtype: DType, label: String, shapes: [(m: Int, n: Int, k: Int)])
        -> [CertificationCheck]
    {
        let names = ["matmul.\(dtype).\(label)", "matmul.\(dtype).prepared-\(label)"]
        var plain = ErrorMeasure()
        var prepared = ErrorMeasure()
        var inputs = OpInputs(seed: 21)
        do {
            for (index, (m, n, k)) in shapes.enumerated() {
                let x = inputs.values(m * k)
                let w = inputs.values(n * k)
                let b = inputs.values(n)
                // The strided input: each row behind 3 columns of values the matmul must not read.
                var wide: [Float] = []
                for row in 0..<m { wide += [1e4, 1e4, 1e4] + x[(row * k)..<((row + 1) * k)] }
                for useBias in label.hasPrefix("large") ? [index % 2 == 1] : [false, true] {
                    let shape = "\(m)×\(n)×\(k)" + (useBias ? " with bias" : "")
                    func bias(_ backend: any ComputeBackend) throws -> Tensor? {
                        useBias ? try backend.makeTensor(b, rows: 1, columns: n) : nil
                    }
                    func weight(_ backend: any ComputeBackend) throws -> Tensor {
                        try backend.makeWeightTensor(w, rows: n, columns: k, dtype: dtype)
                    }
                    let (got, want) = try pair.run(rows: m, columns: n) { backend, out in
                        backend.matmul(try backend.makeTensor(x, rows: m, columns: k), weight: try weight(backend),
                            bias: try bias(backend), out: out)
                    }
                    plain.add(got: got, want: want, columns: n, shape: shape)
                    let padded = try pair.output(of: pair.backend, rows: m, columns: n + 2) { backend, out in
                        let input = try backend.makeTensor(wide, rows: m, columns: k + 3).columns(3, count: k)
                        backend.matmul(input, weight: try backend.prepareMatmulWeight(try weight(backend)),
                            bias: try bias(backend), out: out.columns(2, count: n))
                    }
                    var strided: [Float] = []
                    for row in 0..<m { strided += padded[(row * (n + 2) + 2)..<((row + 1) * (n + 2))] }
                    prepared.add(got: strided, want: want, columns: n, shape: shape + ", strided views")
                }
            }
        } catch {
            return names.map { CertificationCheck(.ops, $0, .fail, figure: "the device failed", detail: "\(error)") }
        }
        let budget = ErrorBudget.of(.matmul, dtype: dtype)
        let depth = shapes.map(\.k).max()!
        return [judge(names[0], plain, budget: budget, length: depth), judge(names[1], prepared, budget: budget, length: depth)]
    }
}
