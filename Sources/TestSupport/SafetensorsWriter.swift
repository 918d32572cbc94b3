import Foundation

/// Reads and writes safetensors files in tests, to build corrupted or edited checkpoints.
public enum SafetensorsWriter {
    public struct Entry {
        public var dtype: String
        public var shape: [Int]
        public var data: Data
    }

    /// Parses `url`, lets `edit` change the tensors, and writes the result back.
    public static func rewrite(_ url: URL, _ edit: (inout [String: Entry]) -> Void) throws {
        let bytes = try Data(contentsOf: url)
        let headerLength = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        var tensors: [String: Entry] = [:]
        for (name, value) in header where name != "__metadata__" {
            let entry = value as! [String: Any]
            let offsets = entry["data_offsets"] as! [Int]
            tensors[name] = Entry(
                dtype: entry["dtype"] as! String, shape: entry["shape"] as! [Int],
                data: bytes.subdata(in: (8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1])))
        }
        edit(&tensors)
        try write(tensors, to: url)
    }

    /// Writes `tensors` as a safetensors file.
    public static func write(_ tensors: [String: Entry], to url: URL) throws {
        var header: [String: Any] = [:]
        var data = Data()
        for name in tensors.keys.sorted() {
            let entry = tensors[name]!
            header[name] = ["dtype": entry.dtype, "shape": entry.shape, "data_offsets": [data.count, data.count + entry.data.count]]
            data.append(entry.data)
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(data)
        try file.write(to: url)
    }
}
