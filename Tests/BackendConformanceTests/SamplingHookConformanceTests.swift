import BackendCatalog
import Backends
import ServingTypes
import Testing
import TestSupport

/// The optional sampling hooks of every device that claims them, against a host computation of
/// the contract: argmax is the first column holding the row's maximum; top-k is the k largest,
/// largest first, equal values by lower column. Rows include ties, `-inf` and a row of `-inf` only.
@Suite struct SamplingHookConformanceTests {
    static let claiming = BackendConformanceTests.devices.filter {
        !(try! BackendCatalog.device(named: $0)).capabilities.hooks.isDisjoint(with: [.deviceArgmax, .deviceTopK])
    }

    /// `rows` rows of `columns` logits with planted ties and infinities.
    static func logits(rows: Int, columns: Int, seed: UInt64) -> [Float] {
        var random = SeededRandom(seed: seed)
        var values = (0..<rows * columns).map { _ in Float(Int(random.next() % 2001) - 1000) / 64 }
        for r in 0..<rows {
            let row = r * columns
            values[row + columns - 1] = values[row + r % columns]  // a tie with an earlier column
            if r % 3 == 1 { values[row + (r * 7) % columns] = -.infinity }
        }
        if rows > 2 { for c in 0..<columns { values[2 * columns + c] = -.infinity } }
        return values
    }

    @Test(arguments: claiming)
    func argmaxAndTopKFollowTheContract(device name: String) throws {
        let backend = try BackendCatalog.device(named: name).makeBackend(threads: 1)
        let capabilities = backend.device.capabilities
        for (rows, columns) in [(1, 1), (3, 17), (5, 300), (2, 1000)] {
            let values = Self.logits(rows: rows, columns: columns, seed: UInt64(rows * columns))
            // A strided view: the rows sit inside a wider buffer.
            var padded = [Float](repeating: 7, count: rows * (columns + 3))
            for r in 0..<rows { for c in 0..<columns { padded[r * (columns + 3) + c] = values[r * columns + c] } }
            let tensor = try backend.makeTensor(padded, rows: rows, columns: columns + 3).columns(0, count: columns)
            let order = (0..<rows).map { r in
                (0..<columns).sorted { a, b in
                    let (x, y) = (values[r * columns + a], values[r * columns + b])
                    return x > y || (x == y && a < b)
                }
            }
            if capabilities.hooks.contains(.deviceArgmax) {
                var ids = [Int32](repeating: -1, count: rows)
                try ids.withUnsafeMutableBufferPointer { try backend.argmax(tensor, into: $0) }
                #expect(ids == order.map { Int32($0[0]) }, "\(name) argmax \(rows)×\(columns)")
            }
            guard capabilities.hooks.contains(.deviceTopK) else { continue }
            for k in Set([1, min(5, columns), min(capabilities.maxTopK, columns)]) {
                var ids = [Int32](repeating: -1, count: rows * k)
                var got = [Float](repeating: .nan, count: rows * k)
                try ids.withUnsafeMutableBufferPointer { ids in
                    try got.withUnsafeMutableBufferPointer { try backend.topK(tensor, k: k, ids: ids, values: $0) }
                }
                let expectedIDs = order.flatMap { $0.prefix(k).map(Int32.init) }
                #expect(ids == expectedIDs, "\(name) top-\(k) \(rows)×\(columns)")
                #expect(got == expectedIDs.enumerated().map { values[($0.offset / k) * columns + Int($0.element)] })
            }
        }
    }

    @Test(arguments: claiming)
    func topKBeyondTheClaimIsRefused(device name: String) throws {
        let backend = try BackendCatalog.device(named: name).makeBackend(threads: 1)
        let limit = backend.device.capabilities.maxTopK
        guard backend.device.capabilities.hooks.contains(.deviceTopK) else { return }
        let tensor = try backend.makeTensor(rows: 1, columns: limit + 10)
        var ids = [Int32](repeating: 0, count: limit + 1)
        var values = [Float](repeating: 0, count: limit + 1)
        let error = #expect(throws: BackendError.self) {
            try ids.withUnsafeMutableBufferPointer { ids in
                try values.withUnsafeMutableBufferPointer { try backend.topK(tensor, k: limit + 1, ids: ids, values: $0) }
            }
        }
        #expect(error?.code == .invalidArgument, "\(String(describing: error))")
    }
}
