// One scripted sequence of collectives that every Communicator implementation must pass.
import Collectives
import ServingTypes
import Testing
import TestSupport

/// Inputs depend only on (rank, count, salt), so ranks and the checker rebuild them independently.
/// Magnitudes vary over six orders so that summation order would show in the low bits.
func inputs(rank: Int, count: Int, salt: UInt64) -> [Float] {
    var generator = SeededRandom(seed: salt &* 1_000_003 &+ UInt64(rank) &* 7919 &+ UInt64(count))
    var values = [Float](repeating: 0, count: count)
    for index in 0..<count {
        let bits = generator.next()
        let unit = Float(bits >> 40) / Float(1 << 24) * 2 - 1
        let scale: Float = bits & 3 == 0 ? 1000 : (bits & 3 == 1 ? 0.001 : 1)
        values[index] = unit * scale
    }
    return values
}

func bytePattern(count: Int, root: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ root) }
}

struct ScenarioOutput: Sendable {
    var allReduced: [[Float]] = []
    var gathered: [[Float]] = []
    var broadcastBytes: [[UInt8]] = []
    var broadcastFloats: [[Float]] = []
}

enum CollectiveScenario {
    /// Around the 64 KiB direct/ring threshold (16384 floats) ±1, odd sizes, and ~4 MB.
    static let allReduceCounts = [1, 7, 1000, 16383, 16384, 16385, 1_000_003]
    static let gatherCounts = [0, 1, 5, 3001]
    static let byteCounts = [0, 3, 100_000, 17]
    static let broadcastFloatCount = 513

    static func run(_ communicator: any Communicator) throws -> ScenarioOutput {
        let rank = communicator.rank
        let worldSize = communicator.worldSize
        var output = ScenarioOutput()
        for count in allReduceCounts {
            var values = inputs(rank: rank, count: count, salt: 1)
            try communicator.allReduceSum(&values)
            output.allReduced.append(values)
        }
        try communicator.barrier()
        for count in gatherCounts {
            output.gathered.append(try communicator.allGather(inputs(rank: rank, count: count, salt: 2)))
        }
        for (index, count) in byteCounts.enumerated() {
            let root = index % worldSize
            var bytes = rank == root ? bytePattern(count: count, root: root) : [9, 9, 9]
            try communicator.broadcast(&bytes, root: root)
            output.broadcastBytes.append(bytes)
        }
        for root in 0..<worldSize {
            var values =
                rank == root
                ? inputs(rank: root, count: broadcastFloatCount, salt: 3)
                : [Float](repeating: .nan, count: broadcastFloatCount)
            try communicator.broadcast(&values, root: root)
            output.broadcastFloats.append(values)
        }
        try communicator.barrier()
        return output
    }

    static func verify(_ results: [Result<ScenarioOutput, any Error>], worldSize: Int) throws {
        let outputs = try results.map { try $0.get() }
        for (index, count) in allReduceCounts.enumerated() {
            let perRank = (0..<worldSize).map { inputs(rank: $0, count: count, salt: 1) }
            let result = outputs[0].allReduced[index]
            var worst = 0.0
            for element in 0..<count {
                var exact = 0.0
                var scale = 0.0
                for values in perRank {
                    exact += Double(values[element])
                    scale += abs(Double(values[element]))
                }
                worst = max(worst, abs(Double(result[element]) - exact) / (scale + 1e-30))
            }
            #expect(worst < 1e-6, "count \(count): relative error \(worst)")
            let bits = outputs[0].allReduced[index].map(\.bitPattern)
            for rank in 1..<worldSize {
                #expect(outputs[rank].allReduced[index].map(\.bitPattern) == bits, "count \(count) rank \(rank) differs")
            }
        }
        for (index, count) in gatherCounts.enumerated() {
            let expected = (0..<worldSize).flatMap { inputs(rank: $0, count: count, salt: 2) }
            for output in outputs { #expect(output.gathered[index] == expected, "allGather count \(count)") }
        }
        for (index, count) in byteCounts.enumerated() {
            let expected = bytePattern(count: count, root: index % worldSize)
            for output in outputs { #expect(output.broadcastBytes[index] == expected, "broadcast \(count) bytes") }
        }
        for root in 0..<worldSize {
            let expected = inputs(rank: root, count: broadcastFloatCount, salt: 3)
            for output in outputs { #expect(output.broadcastFloats[root] == expected, "broadcast floats root \(root)") }
        }
    }
}
