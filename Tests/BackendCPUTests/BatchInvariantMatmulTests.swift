import BackendCPU
import Backends
import Testing

/// With batch-invariant kernels on, a matmul row gets the same bits in a step of any row count, on
/// packed and unpacked weights of every dtype. Packed weights run the panel kernel at every row
/// count, so they are batch-invariant without the switch too; unpacked weights without it go
/// through OpenBLAS for long steps and may differ (not asserted).
@Suite struct BatchInvariantMatmulTests {
    @Test(arguments: [DType.f32, .bf16, .f16], [(packed: true, invariant: true), (false, true), (true, false)])
    func aRowsResultDoesNotDependOnTheOtherRows(weightDType: DType, mode: (packed: Bool, invariant: Bool)) throws {
        let packed = mode.packed
        var generator = SystemRandomNumberGenerator()
        let (n, k) = (40, 96)
        let backend = try CPUDevice().makeBackend(threads: 2)
        if mode.invariant { try backend.enableBatchInvariance() }
        #expect(backend.isBatchInvariant == mode.invariant)
        let w = (0..<n * k).map { _ in Float.random(in: -1...1, using: &generator) }
        let bias = try backend.makeTensor((0..<n).map { _ in Float.random(in: -1...1, using: &generator) }, rows: 1, columns: n)
        var weight = try backend.makeWeightTensor(w, rows: n, columns: k, dtype: weightDType)
        if packed { weight = try backend.prepareMatmulWeight(weight) }
        let x = (0..<300 * k).map { _ in Float.random(in: -1...1, using: &generator) }
        func product(rows: Range<Int>) throws -> [Float] { try backend.product(x, k: k, rows: rows, weight: weight, bias: bias) }
        let all = try product(rows: 0..<300)
        for rows in [0..<1, 5..<12, 100..<230, 299..<300] {
            let part = try product(rows: rows)
            let expected = Array(all[rows.lowerBound * n..<rows.upperBound * n])
            #expect(zip(part, expected).allSatisfy { $0.bitPattern == $1.bitPattern }, "rows \(rows) of 300, \(weightDType), \(mode)")
        }
    }
}
