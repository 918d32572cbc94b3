@testable import BackendCPU
import Backends
import Testing

/// The CPU backend's bf16 KV store rounds exactly as ``Backends/bf16FromFloat(_:)`` (round to
/// nearest even, NaN kept quiet), in the 8-wide loop and in the scalar tail.
@Suite struct BF16StoreTests {
    @Test func vectorAndTailMatchTheScalarRounding() {
        var generator = SystemRandomNumberGenerator()
        var values: [Float] = [
            0, -0, 1, -1, .infinity, -.infinity, .nan, -.nan, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
            .leastNonzeroMagnitude, .leastNormalMagnitude, .signalingNaN,
            // Ties: exactly halfway between two bf16 values, rounding to the even one each way.
            Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000), Float(bitPattern: 0xBF80_8000),
            // Just either side of a tie, and a carry into the exponent.
            Float(bitPattern: 0x3F80_7FFF), Float(bitPattern: 0x3F80_8001), Float(bitPattern: 0x3FFF_FFFF),
            Float(bitPattern: 0x7F7F_FFFF),
        ]
        values += (0..<1000).map { _ in Float(bitPattern: generator.next()) }
        values += (0..<1000).map { _ in Float.random(in: -4...4, using: &generator) }
        for count in [values.count, 7, 8, 9] {
            var stored = [UInt16](repeating: 0xDEAD, count: count + 1)
            values.withUnsafeBufferPointer { source in
                stored.withUnsafeMutableBytes { storeBF16(source.baseAddress!, $0.baseAddress!, count) }
            }
            for i in 0..<count {
                #expect(stored[i] == bf16FromFloat(values[i]), "element \(i): \(values[i].bitPattern)")
            }
            #expect(stored[count] == 0xDEAD, "wrote past the end")
        }
    }
}
