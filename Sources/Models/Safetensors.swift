import Backends
import Foundation

/// One tensor inside a safetensors file: its dtype, shape and bytes (inside the file's mapping).
public struct TensorData {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let bytes: UnsafeRawBufferPointer
    /// The mapping that owns `bytes`; keep it alive while the bytes are used.
    public let file: MappedFile

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A parsed safetensors file: 8-byte little-endian header length, a JSON header mapping tensor
/// names to `{dtype, shape, data_offsets}`, then the data. The file is memory-mapped, never copied.
public struct SafetensorsFile {
    public let file: MappedFile
    public let tensors: [String: TensorData]

    /// Largest header accepted (the format's own limit is 100 MB).
    static let maxHeaderBytes = 100_000_000

    public init(path: String) throws {
        file = try MappedFile(path: path)
        tensors = try Self.parse(file)
    }

    private static func parse(_ file: MappedFile) throws -> [String: TensorData] {
        let bytes = file.bytes
        let path = file.path
        func invalid(_ why: String) -> ModelError { ModelError(.invalidCheckpoint, "\(path): \(why)") }
        guard bytes.count >= 8 else { throw invalid("too short for a safetensors header (\(bytes.count) bytes)") }
        // Compared as read: a length of 2^63 or more does not fit in an Int.
        let announced = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard announced > 0, announced <= maxHeaderBytes, 8 + Int(announced) <= bytes.count else {
            throw invalid("header length \(announced) does not fit the file of \(bytes.count) bytes")
        }
        let headerLength = Int(announced)
        let headerData = Data(bytes[8..<(8 + headerLength)])
        guard let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else {
            throw invalid("header is not a JSON object")
        }
        let dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart
        var result: [String: TensorData] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtypeName = entry["dtype"] as? String,
                let shape = (entry["shape"] as? [NSNumber])?.map(\.intValue),
                let offsets = (entry["data_offsets"] as? [NSNumber])?.map(\.intValue), offsets.count == 2
            else { throw invalid("tensor '\(name)' has a malformed header entry") }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw ModelError(.unsupportedDType,
                    "\(path): tensor '\(name)' has dtype \(dtypeName); supported: F32, F16, BF16")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw invalid("tensor '\(name)' has a negative dimension \(shape)") }
            let (begin, end) = (offsets[0], offsets[1])
            var expected = dtype.byteSize
            for dimension in shape {
                let (product, overflow) = expected.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw invalid("tensor '\(name)' has shape \(shape), too large to address") }
                expected = product
            }
            guard begin >= 0, begin <= end, end <= dataLength else {
                throw invalid("tensor '\(name)' data_offsets [\(begin), \(end)] exceed the data section of \(dataLength) bytes")
            }
            guard end - begin == expected else {
                throw invalid("tensor '\(name)' has \(end - begin) bytes but shape \(shape) of \(dtypeName) needs \(expected)")
            }
            let slice = UnsafeRawBufferPointer(rebasing: bytes[(dataStart + begin)..<(dataStart + end)])
            result[name] = TensorData(name: name, dtype: dtype, shape: shape, bytes: slice, file: file)
        }
        return result
    }
}
