/// A two-dimensional, row-major view of a device buffer: `rows × columns` elements of `dtype`,
/// with consecutive rows `rowStride` elements apart (`rowStride >= columns`).
///
/// Every tensor of a Llama forward pass is a matrix: activations are `[tokens, features]` and
/// weights are `[outFeatures, inFeatures]`, as Hugging Face stores them. Views are cheap values;
/// slicing never copies. A view does not own its buffer's contents, only a reference to it.
public struct Tensor {
    public let buffer: any DeviceBuffer
    public let byteOffset: Int
    public let dtype: DType
    public let rows: Int
    public let columns: Int
    public let rowStride: Int

    public init(buffer: any DeviceBuffer, byteOffset: Int = 0, dtype: DType, rows: Int, columns: Int, rowStride: Int? = nil) {
        let stride = rowStride ?? columns
        precondition(rows >= 0 && columns >= 0 && stride >= columns, "invalid tensor shape")
        precondition(
            rows == 0 || byteOffset + ((rows - 1) * stride + columns) * dtype.byteSize <= buffer.byteCount,
            "tensor view exceeds its buffer"
        )
        self.buffer = buffer
        self.byteOffset = byteOffset
        self.dtype = dtype
        self.rows = rows
        self.columns = columns
        self.rowStride = stride
    }

    /// A backend's own layout of the logical `rows × columns` matrix of `dtype` that
    /// ``ComputeBackend/prepareMatmulWeight(_:)`` returns, in a buffer that may be smaller than the
    /// matrix (a quantized copy, say): only that backend reads it, as a whole, never sliced.
    public init(preparedWeight buffer: any DeviceBuffer, dtype: DType, rows: Int, columns: Int) {
        precondition(rows >= 0 && columns >= 0, "invalid tensor shape")
        self.buffer = buffer
        self.byteOffset = 0
        self.dtype = dtype
        self.rows = rows
        self.columns = columns
        self.rowStride = columns
    }

    /// Number of elements in the view.
    public var elementCount: Int { rows * columns }

    /// Whether rows follow each other with no gap.
    public var isContiguous: Bool { rowStride == columns || rows <= 1 }

    /// Rows `start ..< start + count`.
    public func rows(_ start: Int, count: Int) -> Tensor {
        precondition(start >= 0 && count >= 0 && start + count <= rows, "row slice out of range")
        return Tensor(
            buffer: buffer, byteOffset: byteOffset + start * rowStride * dtype.byteSize, dtype: dtype,
            rows: count, columns: columns, rowStride: rowStride)
    }

    /// Columns `start ..< start + count` of every row.
    public func columns(_ start: Int, count: Int) -> Tensor {
        precondition(start >= 0 && count >= 0 && start + count <= columns, "column slice out of range")
        return Tensor(
            buffer: buffer, byteOffset: byteOffset + start * dtype.byteSize, dtype: dtype,
            rows: rows, columns: count, rowStride: rowStride)
    }

    /// The same elements seen as `rows × columns`; requires a contiguous view.
    public func reshaped(rows newRows: Int, columns newColumns: Int) -> Tensor {
        precondition(isContiguous && newRows * newColumns == elementCount, "cannot reshape a strided view")
        return Tensor(buffer: buffer, byteOffset: byteOffset, dtype: dtype, rows: newRows, columns: newColumns)
    }

    /// The host address of the first element, when the buffer is host-visible.
    @inlinable
    public var hostAddress: UnsafeMutableRawPointer? {
        buffer.hostAddress.map { $0 + byteOffset }
    }
}
