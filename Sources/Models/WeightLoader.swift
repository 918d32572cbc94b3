import Backends

/// Moves checkpoint tensors onto a backend, slicing them for tensor parallelism.
struct WeightLoader {
    let checkpoint: Checkpoint
    let backend: any ComputeBackend

    /// A whole matrix, borrowed from the mapping where the device allows.
    func matrix(_ name: String, shape: [Int]) throws -> Tensor {
        let data = try checkpoint.tensor(name, shape: shape)
        let buffer = try backend.makeWeightBuffer(copying: data.bytes, owner: data.file)
        return Tensor(buffer: buffer, dtype: data.dtype, rows: shape[0], columns: shape[1])
    }

    /// Rows `range` of a matrix as host bytes (a contiguous slice of the mapping).
    func rows(_ name: String, shape: [Int], _ range: Range<Int>) throws -> TensorData {
        let data = try checkpoint.tensor(name, shape: shape)
        let rowBytes = shape[1] * data.dtype.byteSize
        let slice = UnsafeRawBufferPointer(rebasing: data.bytes[(range.lowerBound * rowBytes)..<(range.upperBound * rowBytes)])
        return TensorData(name: name, dtype: data.dtype, shape: [range.count, shape[1]], bytes: slice, file: data.file)
    }

    /// Matrices stacked along their rows into one new weight buffer (all must share a dtype).
    func concatenate(_ parts: [TensorData], columns: Int) throws -> Tensor {
        let dtype = parts[0].dtype
        for part in parts where part.dtype != dtype {
            throw ModelError(.unsupportedDType,
                "\(part.file.path): tensor '\(part.name)' is \(part.dtype) but '\(parts[0].name)' is \(dtype); fused weights need one dtype")
        }
        let totalRows = parts.reduce(0) { $0 + $1.shape[0] }
        var bytes = [UInt8]()
        bytes.reserveCapacity(totalRows * columns * dtype.byteSize)
        for part in parts { bytes.append(contentsOf: part.bytes) }
        let buffer = try bytes.withUnsafeBytes { try backend.makeWeightBuffer(copying: $0, owner: nil) }
        return Tensor(buffer: buffer, dtype: dtype, rows: totalRows, columns: columns)
    }

    /// Columns `range` of a matrix (row-parallel layers), copied into a new buffer unless whole.
    func columns(_ name: String, shape: [Int], _ range: Range<Int>) throws -> Tensor {
        if range.count == shape[1] { return try matrix(name, shape: shape) }
        let data = try checkpoint.tensor(name, shape: shape)
        let size = data.dtype.byteSize
        var bytes = [UInt8]()
        bytes.reserveCapacity(shape[0] * range.count * size)
        for row in 0..<shape[0] {
            let start = (row * shape[1] + range.lowerBound) * size
            bytes.append(contentsOf: data.bytes[start..<(start + range.count * size)])
        }
        let buffer = try bytes.withUnsafeBytes { try backend.makeWeightBuffer(copying: $0, owner: nil) }
        return Tensor(buffer: buffer, dtype: data.dtype, rows: shape[0], columns: range.count)
    }

    /// A 1-D tensor (norm weight) widened to f32, as a `[1, count]` tensor.
    func vector(_ name: String, count: Int) throws -> Tensor {
        let data = try checkpoint.tensor(name, shape: [count])
        return try backend.makeTensor(widened(data, 0..<count), rows: 1, columns: count, usage: .weights)
    }

    /// Slices of several 1-D tensors (biases) concatenated and widened to f32.
    func vector(concatenating parts: [(name: String, count: Int, range: Range<Int>)]) throws -> Tensor {
        var values: [Float] = []
        for part in parts {
            values += widened(try checkpoint.tensor(part.name, shape: [part.count]), part.range)
        }
        return try backend.makeTensor(values, rows: 1, columns: values.count, usage: .weights)
    }

    private func widened(_ data: TensorData, _ range: Range<Int>) -> [Float] {
        range.map { loadElement(data.bytes.baseAddress!, $0, data.dtype) }
    }
}
