@testable import BackendCPU
import Backends
import Testing

/// The AVX-512 and AVX2 panel micro-kernels must give the same bits (the conformance suite checks
/// whichever one this CPU prefers against the reference backend; this checks the other one agrees,
/// so a machine with AVX-512 still tests the AVX2 kernel). Shapes cross both kernels' row groups (6;
/// 8 and 16), the 64-row panel limit, panels cut short (outputs off 16), pairs of panels and single
/// ones, and 128-deep blocks.
@Suite(.enabled(if: CPUKernelSet.avx512Supported, "the CPU has no AVX-512"))
struct PanelKernelTests {
    static let shapes = [
        (1, 16, 8), (5, 33, 130), (6, 17, 64), (7, 40, 257), (15, 31, 128), (16, 64, 300), (17, 20, 129),
        (31, 48, 64), (33, 50, 200), (48, 16, 96), (64, 45, 270),
        // Enough panels (19, the last cut short) that each of the 8 parts gets pairs and singles.
        (9, 300, 257), (16, 300, 130),
    ]

    @Test(arguments: [DType.f32, .bf16, .f16])
    func bothKernelsGiveTheSameBits(weightDType: DType) throws {
        var generator = SystemRandomNumberGenerator()
        for (m, n, k) in Self.shapes {
            let x = (0..<m * k).map { _ in Float.random(in: -1...1, using: &generator) }
            let w = (0..<n * k).map { _ in Float.random(in: -1...1, using: &generator) }
            let bias = (0..<n).map { _ in Float.random(in: -1...1, using: &generator) }
            for useBias in [false, true] {
                var outputs: [[Float]] = []
                for kernels in [CPUKernelSet.avx2, .avx512] {
                    let backend = CPUBackend(threadCount: 2)
                    backend.kernels = kernels
                    let out = try backend.makeTensor(rows: m, columns: n)
                    backend.matmul(
                        try backend.makeTensor(x, rows: m, columns: k),
                        weight: try backend.prepareMatmulWeight(
                            backend.makeWeightTensor(w, rows: n, columns: k, dtype: weightDType)),
                        bias: useBias ? try backend.makeTensor(bias, rows: 1, columns: n) : nil, out: out)
                    backend.synchronize()
                    outputs.append(backend.read(out))
                }
                let same = zip(outputs[0], outputs[1]).allSatisfy { $0.bitPattern == $1.bitPattern }
                #expect(same, "\(m)×\(n)×\(k) \(weightDType) bias \(useBias)")
            }
        }
    }
}
