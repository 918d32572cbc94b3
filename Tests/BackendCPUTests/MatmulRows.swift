import Backends

extension ComputeBackend {
    /// `x[rows] · weightᵀ + bias` for rows `rows` of the row-major `x` (`k` columns), read back.
    func product(_ x: [Float], k: Int, rows: Range<Int>, weight: Tensor, bias: Tensor?) throws -> [Float] {
        let out = try makeTensor(rows: rows.count, columns: weight.rows)
        matmul(
            try makeTensor(Array(x[rows.lowerBound * k..<rows.upperBound * k]), rows: rows.count, columns: k),
            weight: weight, bias: bias, out: out)
        synchronize()
        return read(out)
    }
}
