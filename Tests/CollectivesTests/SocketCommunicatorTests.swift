import Collectives
import Foundation
import Testing
import Transport

enum Medium: String, CaseIterable, Sendable {
    case ipc, tcp

    func rendezvous() -> String { self == .ipc ? uniqueIPCEndpoint() : freeTCPEndpoint() }
}

@Suite struct SocketCommunicatorTests {
    @Test(arguments: Medium.allCases, [2, 3, 4])
    func collectivesMatchReferenceAndAgreeBitwise(medium: Medium, worldSize: Int) throws {
        let rendezvous = medium.rendezvous()
        let results = runRanks(worldSize) { rank in
            let communicator = try SocketCommunicator.connect(
                rank: rank, worldSize: worldSize, rendezvous: rendezvous, fingerprint: "tiny-llama tp=\(worldSize)",
                timeout: .seconds(20))
            return try CollectiveScenario.run(communicator)
        }
        try CollectiveScenario.verify(results, worldSize: worldSize)
    }

    @Test(arguments: [0, 1 << 30])
    func ringAndDirectPathsBothWork(directThresholdBytes: Int) throws {
        let rendezvous = uniqueIPCEndpoint()
        let results = runRanks(3) { rank in
            let communicator = try SocketCommunicator.connect(
                rank: rank, worldSize: 3, rendezvous: rendezvous, fingerprint: "f", timeout: .seconds(20))
            communicator.directThresholdBytes = directThresholdBytes
            return try CollectiveScenario.run(communicator)
        }
        try CollectiveScenario.verify(results, worldSize: 3)
    }

    @Test func singleRankNeedsNoSockets() throws {
        let communicator = try SocketCommunicator.connect(
            rank: 0, worldSize: 1, rendezvous: uniqueIPCEndpoint(), fingerprint: "solo")
        try CollectiveScenario.verify([Result { try CollectiveScenario.run(communicator) }], worldSize: 1)
    }

    @Test func sharedContextWorksAcrossThreads() throws {
        let context = try ZMQContext()
        let rendezvous = uniqueIPCEndpoint()
        let results = runRanks(2) { rank -> [Float] in
            let communicator = try SocketCommunicator.connect(
                rank: rank, worldSize: 2, rendezvous: rendezvous, fingerprint: "f", timeout: .seconds(5),
                context: context)
            var values: [Float] = [Float(rank), 1]
            try communicator.allReduceSum(&values)
            return values
        }
        #expect(try results.map { try $0.get() } == [[1, 2], [1, 2]])
    }
}
