import BackendCatalog
import Backends
import Foundation
import Testing
import TestSupport

/// Every op of every registered device against the reference backend, on random shapes that
/// include sizes off the SIMD width (ggml's test-backend-ops idea). A new accelerator is supported
/// when it passes this suite.
///
/// Tolerance: outputs are f32 and both sides compute in at least f32; only summation order and the
/// exp/sin/cos implementations differ. 1e-4 relative (to max(1, |value|)) is ~1000 ulps at these
/// sizes: tight enough to catch any indexing or masking error, which shows up as O(1) differences.
@Suite struct BackendConformanceTests {
    /// The compiled-in devices and the plugins built here (reference C, OpenCL on PoCL).
    static let devices = BackendCatalog.names + Fixtures.pluginBackends
    static let tolerance: Float = 1e-4

    func backends(_ name: String) throws -> (any ComputeBackend, any ComputeBackend) {
        (try BackendCatalog.device(named: name).makeBackend(threads: 2),
         try BackendCatalog.device(named: "reference").makeBackend(threads: 1))
    }

    @Test(arguments: devices)
    func reportsSupportForEveryOp(device name: String) throws {
        let device = try BackendCatalog.device(named: name)
        for kind in OpKind.allCases {
            #expect(device.supports(OpDescriptor(kind)), "\(name) must support \(kind) with f32 weights")
        }
    }

    @Test(arguments: devices, [DType.f32, .bf16, .f16])
    func matmul(device name: String, weightDType: DType) throws {
        let pair = try backends(name)
        var inputs = OpInputs(seed: 1)
        for (m, n, k) in [(1, 1, 1), (1, 37, 29), (3, 64, 48), (4, 33, 130), (5, 17, 31), (19, 40, 67), (64, 96, 128)] {
            let x = inputs.values(m * k)
            let w = inputs.values(n * k)
            let bias = inputs.values(n)
            for useBias in [false, true] {
                let (got, want) = try compare(pair, rows: m, columns: n) { backend, out in
                    backend.matmul(
                        try backend.makeTensor(x, rows: m, columns: k),
                        weight: try backend.makeWeightTensor(w, rows: n, columns: k, dtype: weightDType),
                        bias: useBias ? try backend.makeTensor(bias, rows: 1, columns: n) : nil, out: out)
                }
                #expect(maxRelativeError(got, want) < Self.tolerance, "matmul \(m)×\(n)×\(k) \(weightDType) bias \(useBias)")
            }
        }
    }

    /// Weights laid out by the device (`prepareMatmulWeight`), on shapes that cross every blocking
    /// edge of such a layout: row counts around 6-, 8- and 16-row micro-kernels and the 64- and 128-row kernel limits, more
    /// rows than a 96-row cache block, output counts off a 16-wide panel, and input counts over a
    /// 256-deep block. Inputs and outputs are strided views.
    @Test(arguments: devices, [DType.f32, .bf16, .f16])
    func matmulOnPreparedWeights(device name: String, weightDType: DType) throws {
        let pair = try backends(name)
        var inputs = OpInputs(seed: 3)
        for (m, n, k) in [(1, 16, 8), (2, 5, 300), (5, 33, 64), (6, 48, 257), (7, 40, 130), (13, 17, 512),
            (16, 64, 33), (17, 20, 129), (33, 50, 200), (9, 300, 140), (64, 31, 70), (65, 20, 40), (100, 33, 64), (128, 40, 70), (130, 50, 270)] {
            let x = inputs.values(m * (k + 3))
            let w = inputs.values(n * k)
            let bias = inputs.values(n)
            for useBias in [false, true] {
                let (got, want) = try compare(pair, rows: m, columns: n + 2) { backend, out in
                    let wide = try backend.makeTensor(x, rows: m, columns: k + 3)
                    let weight = try backend.makeWeightTensor(w, rows: n, columns: k, dtype: weightDType)
                    backend.matmul(
                        wide.columns(3, count: k), weight: try backend.prepareMatmulWeight(weight),
                        bias: useBias ? try backend.makeTensor(bias, rows: 1, columns: n) : nil, out: out.columns(2, count: n))
                }
                #expect(
                    maxRelativeError(got, want) < Self.tolerance,
                    "prepared matmul \(m)×\(n)×\(k) \(weightDType) bias \(useBias)")
            }
        }
    }

    @Test(arguments: devices)
    func stridedMatmulInputAndOutput(device name: String) throws {
        let pair = try backends(name)
        var inputs = OpInputs(seed: 2)
        for m in [2, 6] {
            let (n, k) = (24, 20)
            let x = inputs.values(m * (k + 5))
            let w = inputs.values(n * k)
            let (got, want) = try compare(pair, rows: m, columns: n + 3) { backend, out in
                let wide = try backend.makeTensor(x, rows: m, columns: k + 5)
                backend.matmul(wide.columns(5, count: k), weight: try backend.makeTensor(w, rows: n, columns: k), bias: nil,
                    out: out.columns(3, count: n))
            }
            #expect(maxRelativeError(got, want) < Self.tolerance, "strided matmul with \(m) rows")
        }
    }

    @Test(arguments: devices, [DType.f32, .bf16, .f16])
    func embedding(device name: String, tableDType: DType) throws {
        let pair = try backends(name)
        var inputs = OpInputs(seed: 3)
        let table = inputs.values(50 * 13)
        let ids: [Int32] = [0, 49, 7, 7, 23]
        let (got, want) = try compare(pair, rows: ids.count, columns: 13) { backend, out in
            try backend.beginStep(StepInputs.forOp(tokenIDs: ids))
            backend.embedding(
                table: try backend.makeWeightTensor(table, rows: 50, columns: 13, dtype: tableDType), out: out)
        }
        #expect(got == want)
    }

    @Test(arguments: devices)
    func rmsNormWholeRowsAndPerHead(device name: String) throws {
        let pair = try backends(name)
        var inputs = OpInputs(seed: 4)
        for (rows, columns, group) in [(1, 7, 7), (3, 64, 64), (5, 96, 32), (2, 200, 40), (17, 24, 24)] {
            let x = inputs.values(rows * columns, scale: 3)
            let w = inputs.values(group)
            let (got, want) = try compare(pair, rows: rows, columns: columns) { backend, out in
                backend.rmsNorm(try backend.makeTensor(x, rows: rows, columns: columns),
                    weight: try backend.makeTensor(w, rows: 1, columns: group), epsilon: 1e-5, out: out)
            }
            #expect(maxRelativeError(got, want) < Self.tolerance, "rmsNorm \(rows)×\(columns)/\(group)")
        }
    }

    @Test(arguments: devices)
    func ropeTableAndRotation(device name: String) throws {
        let pair = try backends(name)
        var inputs = OpInputs(seed: 5)
        for headDim in [2, 8, 16, 36, 64] {
            let positions: [Int32] = [0, 1, 5, 511, 4093]
            let half = headDim / 2
            let frequencies: [Float] = (0..<half).map { i -> Float in 1 / powf(10_000, Float(2 * i) / Float(headDim)) }
            let width = 3 * headDim
            let x = inputs.values(positions.count * width)
            let (got, want) = try compare(pair, rows: positions.count, columns: width) { backend, out in
                let table = try backend.makeTensor(rows: positions.count, columns: headDim)
                try backend.beginStep(StepInputs.forOp(positions: positions))
                backend.ropeTable(inverseFrequencies: frequencies, scale: 1, out: table)
                backend.add(try backend.makeTensor(x, rows: positions.count, columns: width),
                    try backend.makeTensor(rows: positions.count, columns: width), out: out)
                backend.rope(out, table: table, headDim: headDim)
            }
            #expect(maxRelativeError(got, want) < Self.tolerance, "rope headDim \(headDim)")
        }
    }

    @Test(arguments: devices)
    func siluMulAddAndGather(device name: String) throws {
        let pair = try backends(name)
        var inputs = OpInputs(seed: 6)
        for (rows, width) in [(1, 1), (3, 9), (7, 64), (2, 301), (300, 130)] {
            let x = inputs.values(rows * 2 * width, scale: 6)
            let (silu, siluReference) = try compare(pair, rows: rows, columns: width) { backend, out in
                backend.siluMul(try backend.makeTensor(x, rows: rows, columns: 2 * width), out: out)
            }
            #expect(maxRelativeError(silu, siluReference) < Self.tolerance, "siluMul \(rows)×\(width)")
            let y = inputs.values(rows * width)
            let (sum, sumReference) = try compare(pair, rows: rows, columns: width) { backend, out in
                backend.add(try backend.makeTensor(Array(x.prefix(rows * width)), rows: rows, columns: width),
                    try backend.makeTensor(y, rows: rows, columns: width), out: out)
            }
            #expect(sum == sumReference)
        }
        let source = inputs.values(6 * 5)
        let (gathered, gatheredReference) = try compare(pair, rows: 4, columns: 5) { backend, out in
            try backend.beginStep(StepInputs.forOp(logitRows: [5, 0, 3, 3]))
            backend.gatherRows(try backend.makeTensor(source, rows: 6, columns: 5), out: out)
        }
        #expect(gathered == gatheredReference)
    }
}
