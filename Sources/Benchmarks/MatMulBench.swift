// RadixServe: matmul throughput on the 56M model's shapes (`radixserve bench --workload matmul`).

import Backends
import Engine
import Foundation
import ServingTypes

/// `radixserve bench --workload matmul`: the backend's matmuls over the weight shapes of the 56M
/// reference model (8 layers of q|k|v, o, gate|up and down, then the LM head; distinct weights per
/// layer, so the pass reads the whole model from memory like a forward step does), with weights as
/// the checkpoint stores them (row-major) against the device's prepared layout
/// (``ComputeBackend/prepareMatmulWeight(_:)``), in the same run.
public struct MatMulBench {
    /// One dtype and row count: both layouts timed.
    public struct Row: Encodable, Sendable {
        var dtype: String
        var rows: Int
        var rowMajorMilliseconds: Double
        var preparedMilliseconds: Double
        var rowMajorGFLOPS: Double
        var preparedGFLOPS: Double
        var speedup: Double
    }

    /// `[outFeatures, inFeatures]` of one layer's matmuls, and the head.
    static let layerShapes = [(1024, 512), (512, 512), (2816, 512), (512, 1408)]
    static let headShape = (32000, 512)
    static let layers = 8

    let backend: any ComputeBackend
    let runs: Int

    /// A benchmark of `backend`'s matmuls, each pass timed `runs` times (the median is reported).
    /// Row counts from comma-separated text such as `1,8,16`; nil when an entry is not an integer.
    public static func rowCounts(_ text: String) -> [Int]? {
        let values = text.split(separator: ",", omittingEmptySubsequences: false).map {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        return values.contains(nil) ? nil : values.compactMap { $0 }
    }

    public init(backend: any ComputeBackend, runs: Int) {
        self.backend = backend
        self.runs = runs
    }

    /// Times both weight layouts of `dtype` for each row count.
    public func measure(dtype: DType, rowCounts: [Int]) throws -> [Row] {
        var random = SeededRandom(seed: 7)
        var shapes: [(Int, Int)] = []
        for _ in 0..<Self.layers { shapes += Self.layerShapes }
        shapes.append(Self.headShape)
        let rowMajor = try shapes.map { try makeWeight(rows: $0.0, columns: $0.1, dtype: dtype, random: &random) }
        let prepared = try rowMajor.map { try backend.prepareMatmulWeight($0) }
        let flopsPerRow = shapes.reduce(0.0) { $0 + 2 * Double($1.0 * $1.1) }
        let widest = shapes.map { max($0.0, $0.1) }.max()!
        return try rowCounts.map { m in
            let x = try backend.makeTensor((0..<(m * widest)).map { _ in random.nextUnitFloat() - 0.5 }, rows: m, columns: widest)
            let out = try backend.makeTensor(rows: m, columns: widest)
            let plain = time(rowMajor, x: x, out: out)
            let fast = time(prepared, x: x, out: out)
            let flops = flopsPerRow * Double(m)
            return Row(
                dtype: dtype.description, rows: m, rowMajorMilliseconds: plain * 1e3, preparedMilliseconds: fast * 1e3,
                rowMajorGFLOPS: flops / plain / 1e9, preparedGFLOPS: flops / fast / 1e9, speedup: plain / fast)
        }
    }

    /// Median seconds of one pass over `weights`, after one unmeasured pass.
    private func time(_ weights: [Tensor], x: Tensor, out: Tensor) -> Double {
        func pass() {
            for weight in weights {
                backend.matmul(
                    x.columns(0, count: weight.columns), weight: weight, bias: nil, out: out.columns(0, count: weight.rows))
            }
            backend.synchronize()
        }
        pass()
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            pass()
            samples.append((ContinuousClock.now - start).seconds)
        }
        return samples.sorted()[samples.count / 2]
    }

    private func makeWeight(rows: Int, columns: Int, dtype: DType, random: inout SeededRandom) throws -> Tensor {
        let values = (0..<(rows * columns)).map { _ in (random.nextUnitFloat() - 0.5) * 0.1 }
        return try backend.makeWeightTensor(values, rows: rows, columns: columns, dtype: dtype)
    }

    /// The rows as an aligned text table.
    public static func table(_ rows: [Row]) -> String {
        var lines = ["dtype  rows  row-major ms  GFLOP/s  prepared ms  GFLOP/s  speedup"]
        for r in rows {
            lines.append(
                "\(r.dtype.padding(toLength: 5, withPad: " ", startingAt: 0))  \(String(r.rows).leftPadded(4))  "
                    + "\(format(r.rowMajorMilliseconds).leftPadded(12))  \(format(r.rowMajorGFLOPS).leftPadded(7))  "
                    + "\(format(r.preparedMilliseconds).leftPadded(11))  \(format(r.preparedGFLOPS).leftPadded(7))  "
                    + "\(format(r.speedup, digits: 2).leftPadded(6))×")
        }
        return lines.joined(separator: "\n")
    }

    private static func format(_ value: Double, digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

extension MatMulBench {
    /// f32 and bf16 weights, every row count of `rowCounts`: one JSON array, or a titled table
    /// naming the backend (`backendName`).
    public func report(rowCounts: [Int], backendName: String, json: Bool) throws -> String {
        var results: [Row] = []
        for dtype in [DType.f32, .bf16] { results += try measure(dtype: dtype, rowCounts: rowCounts) }
        if json { return String(decoding: try JSONEncoder().encode(results), as: UTF8.self) + "\n" }
        let prepared = backend.weightQuantization == .none ? "" : ", prepared weights quantized to \(backend.weightQuantization)"
        return "matmul pass of the 56M model's shapes (8 layers + LM head), \(backend.threadCount) threads, backend "
            + "\(backendName)\(prepared):\n" + Self.table(results) + "\n"
    }
}
