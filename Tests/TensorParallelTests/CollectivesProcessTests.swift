import Collectives
import Foundation
import Testing
import TestSupport

/// The socket communicator between real processes (`radixserve collectives check`), checked
/// against sums computed here.
@Suite struct CollectivesProcessTests {
    static let counts = [1, 7, 1000, 16383, 16385, 1_000_003]


    static func expectedLines(tp: Int) -> String {
        var lines = ""
        for count in counts {
            let sum = (0..<count).map { i in
                (0..<tp).reduce(Float(0)) { $0 + CollectiveCheckData.value(rank: $1, index: i) }
            }
            lines += "allreduce \(count) \(CollectiveCheckData.hash(sum))\n"
            let gathered = (0..<tp).flatMap { rank in
                (0..<count).map { CollectiveCheckData.value(rank: rank, index: $0) }
            }
            lines += "allgather \(count) \(CollectiveCheckData.hash(gathered))\n"
            lines += "broadcast \(count) \(CollectiveCheckData.hash((0..<count).map { CollectiveCheckData.value(rank: count % tp, index: $0) }))\n"
        }
        return lines
    }

    @Test(arguments: [2, 3, 4])
    func everyRankGetsTheLocalResult(tp: Int) throws {
        let rendezvous = "ipc:///tmp/rxs-cc-\(UUID().uuidString.prefix(8))"
        let sizes = Self.counts.map(String.init).joined(separator: ",")
        let ranks = try (0..<tp).map { rank in
            try ChildProcess(
                ["collectives", "check", "--rank", "\(rank)", "--tp", "\(tp)", "--rendezvous", rendezvous, "--sizes", sizes,
                 "--timeout", "30"])
        }
        let expected = Self.expectedLines(tp: tp)
        for (rank, process) in ranks.enumerated() {
            let status = process.finish(timeout: 120)
            #expect(status == 0, "rank \(rank): \(process.standardError)")
            #expect(process.standardOutput == expected, "rank \(rank) differs")
        }
    }
}
