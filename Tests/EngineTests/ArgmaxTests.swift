import Engine
import Testing

/// `Sampler.argmax` against a plain scalar scan (first index of the strictly largest value, NaNs
/// skipped) on lengths around its 16-lane blocks.
@Suite struct ArgmaxTests {
    static func scalarArgmax(_ values: [Float]) -> Int32 {
        var best = 0
        var bestValue = -Float.infinity
        for (i, value) in values.enumerated() where value > bestValue {
            best = i
            bestValue = value
        }
        return Int32(best)
    }

    static func argmax(_ values: [Float]) -> Int32 {
        values.withUnsafeBufferPointer { Sampler.argmax($0) }
    }

    @Test func matchesAScalarScanOnRandomRows() {
        var generator = SystemRandomNumberGenerator()
        for count in [1, 2, 15, 16, 17, 31, 32, 33, 100, 32000] {
            for _ in 0..<20 {
                // Few distinct values, so ties are common and the first one must win.
                let values = (0..<count).map { _ in Float(Int.random(in: -8...8, using: &generator)) / 4 }
                #expect(Self.argmax(values) == Self.scalarArgmax(values), "count \(count)")
            }
        }
    }

    @Test func firstOfTiesAcrossBlocksAndTail() {
        var values = [Float](repeating: 0, count: 40)
        values[37] = 5
        values[20] = 5
        #expect(Self.argmax(values) == 20)
        values[3] = 5
        #expect(Self.argmax(values) == 3)
        values[39] = 6
        #expect(Self.argmax(values) == 39)
    }

    @Test func skipsNaNsAndHandlesRowsWithoutAFiniteValue() {
        var values = [Float](repeating: -1, count: 35)
        values[0] = .nan
        values[17] = .nan
        values[34] = 2
        #expect(Self.argmax(values) == 34)
        #expect(Self.argmax([Float](repeating: -.infinity, count: 20)) == 0)
        #expect(Self.argmax([.nan, -.infinity, .nan]) == 0)
        #expect(Self.argmax([.nan, -.infinity, 1]) == 2)
        #expect(Self.argmax([-.infinity, .infinity, .infinity]) == 1)
        #expect(Self.argmax([]) == 0)
    }
}
