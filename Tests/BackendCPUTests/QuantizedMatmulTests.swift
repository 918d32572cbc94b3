import BackendCPU
import BackendReference
import Backends
import CKernels
import Foundation
import Testing

/// `--quantize int8`: weights and activations in blocks of 32 with one scale each (Q8_0), matmuls
/// on integer block dot products.
@Suite struct QuantizedMatmulTests {
    /// Quantizes `rows` rows of `columns` values with the kernel's routine.
    static func quantize(_ x: [Float], rows: Int, columns: Int) -> (quants: [Int8], scales: [Float]) {
        let blocks = (columns + 31) / 32
        var quants = [Int8](repeating: 0, count: rows * blocks * 32)
        var scales = [Float](repeating: 0, count: rows * blocks)
        radixserve_q8_quantize_rows(x, columns, rows, columns, &quants, &scales)
        return (quants, scales)
    }

    /// Quantizes weights with the kernel's routine: scales are f16, returned widened.
    static func quantizeWeight(_ x: [Float], rows: Int, columns: Int) -> (quants: [Int8], scales: [Float]) {
        let blocks = (columns + 31) / 32
        var quants = [Int8](repeating: 0, count: rows * blocks * 32)
        var bits = [UInt16](repeating: 0, count: rows * blocks)
        radixserve_q8_quantize_weight_rows(x, columns, rows, columns, &quants, &bits)
        return (quants, bits.map { Float(Float16(bitPattern: $0)) })
    }

    @Test func aBlockHoldsItsValuesOverItsLargestMagnitudeTimes127RoundedToNearestEven() {
        // -16 ... 15: the scale is 16/127; 15 becomes 15 · 127/16 = 119.06 → 119.
        let values = (0..<32).map { Float($0 - 16) }
        let (quants, scales) = Self.quantize(values, rows: 1, columns: 32)
        #expect(scales == [Float(16) / 127])
        let expected = values.map { Int8(($0 * (1 / (Float(16) / 127))).rounded(.toNearestOrEven)) }
        #expect(quants == expected)
        #expect(quants.first == -127 && quants.last == 119)
        // A zero block: scale 0, all zeros. A tail of 8 values: padded with zeros.
        let (zeros, zeroScale) = Self.quantize([Float](repeating: 0, count: 32), rows: 1, columns: 32)
        #expect(zeroScale == [0] && zeros.allSatisfy { $0 == 0 })
        let (tail, tailScales) = Self.quantize([Float](repeating: 0.5, count: 32) + [1, -2, 3, -4, 5, -6, 7, -8], rows: 1, columns: 40)
        #expect(tailScales.count == 2 && tailScales[1] == Float(8) / 127)
        #expect(Array(tail[32..<40]) == [16, -32, 48, -64, 79, -95, 111, -127] && tail[40...].allSatisfy { $0 == 0 })
    }

    /// Weight scales are stored as f16 (as in GGUF's Q8_0), rounded up so that no value passes
    /// ±127, and the values are divided by the rounded scale.
    @Test func weightScalesAreF16RoundedUpAndTheValuesUseTheRoundedScale() {
        // 1/127 is not an f16: rounded up it is 0.0078773…, and 1 / that is 126.95 → 127.
        for peak: Float in [1, 0.37, 3e-6, 1e-9, 5e4] {
            let values = (0..<32).map { peak * Float($0 - 16) / 16 }
            let (quants, scales) = Self.quantizeWeight(values, rows: 1, columns: 32)
            let exact = peak / 127
            let nearest = Float16(exact)
            let roundedUp = Float(nearest) >= exact ? Float(nearest) : Float(nearest.nextUp)
            #expect(scales[0] == roundedUp, "peak \(peak): scale \(scales[0]), max/127 \(exact)")
            let expected = values.map { Int8(($0 * (1 / scales[0])).rounded(.toNearestOrEven)) }
            #expect(quants == expected, "peak \(peak)")
            #expect(quants.allSatisfy { $0 >= -127 })
        }
        // Beyond f16's range the scale stops at 65504 and the values saturate at ±127.
        let (huge, hugeScale) = Self.quantizeWeight([Float](repeating: -1e8, count: 32), rows: 1, columns: 32)
        #expect(hugeScale == [65504] && huge.allSatisfy { $0 == -127 })
    }

    /// The int8 kernel this CPU runs is the one its flags allow, and every kernel it can run gives
    /// the AVX2 kernel's bits (on a CPU without VNNI there is only the AVX2 kernel to run).
    @Test func theVNNIKernelsRunWhereTheCPUHasThemAndGiveTheAVX2KernelsBits() throws {
        let flags = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ").map(String.init)) } ?? []
        let expected = flags.isSuperset(of: ["avx512_vnni", "avx512vl"]) ? RADIXSERVE_Q8_AVX512_VNNI
            : flags.contains("avx_vnni") ? RADIXSERVE_Q8_AVX_VNNI : RADIXSERVE_Q8_AVX2
        #expect(Int(radixserve_q8_best_kernel()) == Int(expected), "flags: \(flags.filter { $0.contains("vnni") })")
        var kernels = [Int32(RADIXSERVE_Q8_AVX2)]
        if radixserve_cpu_has_avx_vnni() != 0 { kernels.append(Int32(RADIXSERVE_Q8_AVX_VNNI)) }
        if radixserve_cpu_has_avx512_vnni() != 0 { kernels.append(Int32(RADIXSERVE_Q8_AVX512_VNNI)) }
        var generator = SystemRandomNumberGenerator()
        for (rows, n, k) in [(1, 40, 96), (3, 19, 72), (9, 37, 200), (5, 64, 1000)] {
            let blocks = (k + 31) / 32
            let x = (0..<rows * k).map { _ in Float.random(in: -2...2, using: &generator) }
            let w = (0..<n * k).map { _ in Float.random(in: -1...1, using: &generator) }
            let bias = (0..<n).map { _ in Float.random(in: -1...1, using: &generator) }
            var xq = [Int8](repeating: 0, count: rows * blocks * 32), xs = [Float](repeating: 0, count: rows * blocks)
            var wq = [Int8](repeating: 0, count: n * blocks * 32), ws = [UInt16](repeating: 0, count: n * blocks)
            radixserve_q8_quantize_rows(x, k, rows, k, &xq, &xs)
            radixserve_q8_quantize_weight_rows(w, k, n, k, &wq, &ws)
            let outputs = kernels.map { kernel in
                var out = [Float](repeating: .nan, count: rows * n)
                xq.withUnsafeBufferPointer { xq in xs.withUnsafeBufferPointer { xs in
                    wq.withUnsafeBufferPointer { wq in ws.withUnsafeBufferPointer { ws in
                        bias.withUnsafeBufferPointer { bias in out.withUnsafeMutableBufferPointer { out in
                            var work = radixserve_q8_matmul(
                                input_quants: xq.baseAddress, input_scales: xs.baseAddress, rows: rows, weight_quants: wq.baseAddress,
                                weight_scales: ws.baseAddress, blocks: blocks, first: 0, end: n, bias: bias.baseAddress,
                                out: out.baseAddress, out_stride: n)
                            radixserve_q8_matmul_run(&work, kernel)
                        } }
                    } }
                } }
                return out.map(\.bitPattern)
            }
            #expect(outputs[0].allSatisfy { !Float(bitPattern: $0).isNaN }, "every output written")
            for (kernel, output) in zip(kernels, outputs).dropFirst() {
                #expect(output == outputs[0], "kernel \(kernel), \(rows) rows × \(n) × \(k)")
            }
        }
    }

    /// The backend's int8 matmul equals the exact sum of the quantized blocks (within float
    /// rounding of the scaled block sums), and comes within the quantization error of the f32
    /// product, for K a multiple of 32 and not, one row and many, with and without bias.
    @Test(arguments: [DType.f32, .bf16], [(n: 40, k: 96), (n: 19, k: 72)])
    func matchesTheQuantizedSumsAndTheUnquantizedProduct(weightDType: DType, shape: (n: Int, k: Int)) throws {
        var generator = SystemRandomNumberGenerator()
        let (n, k) = shape
        let backend = try CPUDevice().makeBackend(threads: 2)
        try backend.enableWeightQuantization(.int8)
        var w = (0..<n * k).map { _ in Float.random(in: -1...1, using: &generator) }
        if weightDType == .bf16 { w = w.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) } }  // exact in bf16
        let biasValues = (0..<n).map { _ in Float.random(in: -1...1, using: &generator) }
        let bias = try backend.makeTensor(biasValues, rows: 1, columns: n)
        let weight = try backend.prepareMatmulWeight(try backend.makeWeightTensor(w, rows: n, columns: k, dtype: weightDType))
        let (wq, ws) = Self.quantizeWeight(w, rows: n, columns: k)
        let blocks = (k + 31) / 32
        for rows in [1, 3, 9] {
            let x = (0..<rows * k).map { _ in Float.random(in: -2...2, using: &generator) }
            let (xq, xs) = Self.quantize(x, rows: rows, columns: k)
            let out = try backend.makeTensor(rows: rows, columns: n)
            backend.matmul(try backend.makeTensor(x, rows: rows, columns: k), weight: weight, bias: bias, out: out)
            backend.synchronize()
            let got = backend.read(out)
            for r in 0..<rows {
                for f in 0..<n {
                    var quantized = Double(biasValues[f]), exact = Double(biasValues[f]), magnitude = 0.0
                    for b in 0..<blocks {
                        var dot = 0
                        for i in 0..<32 { dot += Int(wq[(f * blocks + b) * 32 + i]) * Int(xq[(r * blocks + b) * 32 + i]) }
                        quantized += Double(ws[f * blocks + b]) * Double(xs[r * blocks + b]) * Double(dot)
                    }
                    for i in 0..<k {
                        exact += Double(w[f * k + i]) * Double(x[r * k + i])
                        magnitude += abs(Double(w[f * k + i]) * Double(x[r * k + i]))
                    }
                    let value = Double(got[r * n + f])
                    #expect(abs(value - quantized) <= 1e-5 * (magnitude + 1), "row \(r) feature \(f): \(value) vs \(quantized)")
                    // Each operand is off by at most half a step (max/254) per element: the product
                    // by under 1% of Σ|w·x| for values of similar size.
                    #expect(abs(value - exact) <= 0.01 * magnitude + 1e-5, "row \(r) feature \(f): \(value) vs f32 \(exact)")
                }
            }
        }
    }

    @Test func aRowsResultDoesNotDependOnTheOtherRows() throws {
        var generator = SystemRandomNumberGenerator()
        let (n, k) = (48, 160)
        let backend = try CPUDevice().makeBackend(threads: 2)
        try backend.enableWeightQuantization(.int8)
        let w = (0..<n * k).map { _ in Float.random(in: -1...1, using: &generator) }
        let weight = try backend.prepareMatmulWeight(try backend.makeWeightTensor(w, rows: n, columns: k, dtype: .bf16))
        let x = (0..<200 * k).map { _ in Float.random(in: -1...1, using: &generator) }
        func product(rows: Range<Int>) throws -> [Float] { try backend.product(x, k: k, rows: rows, weight: weight, bias: nil) }
        let all = try product(rows: 0..<200)
        for rows in [0..<1, 5..<12, 100..<187, 199..<200] {
            let expected = Array(all[rows.lowerBound * n..<rows.upperBound * n])
            #expect(try product(rows: rows).map(\.bitPattern) == expected.map(\.bitPattern), "rows \(rows) of 200")
        }
    }

    @Test func aDeviceWithoutInt8WeightsRefusesTheSchemeByName() throws {
        let backend = try ReferenceDevice().makeBackend(threads: 1)
        let error = #expect(throws: BackendError.self) { try backend.enableWeightQuantization(.int8) }
        #expect(error?.message.contains("cannot quantize weights to int8") == true && error?.code == .missingCapability)
        try backend.enableWeightQuantization(.none)
    }
}
