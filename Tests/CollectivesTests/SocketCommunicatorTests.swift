import Collectives
import Foundation
import Testing
import Transport

/// How the ranks of a test group talk: same-host shared memory for small all-reduces (over an
/// `ipc://` group), or only ZeroMQ sockets over `ipc://` or loopback `tcp://`.
enum Medium: String, CaseIterable, Sendable {
    case sharedMemory, ipc, tcp

    func rendezvous() -> String { self == .tcp ? freeTCPEndpoint() : uniqueIPCEndpoint() }
    var usesSharedMemory: Bool { self == .sharedMemory }
}

@Suite struct SocketCommunicatorTests {
    @Test(arguments: Medium.allCases, [2, 3, 4])
    func collectivesMatchReferenceAndAgreeBitwise(medium: Medium, worldSize: Int) throws {
        let rendezvous = medium.rendezvous()
        let results = runRanks(worldSize) { rank in
            let communicator = try SocketCommunicator.connect(
                rank: rank, worldSize: worldSize, rendezvous: rendezvous, fingerprint: "tiny-llama tp=\(worldSize)",
                timeout: .seconds(20), sharedMemory: medium.usesSharedMemory)
            guard communicator.usesSharedMemory == medium.usesSharedMemory else {
                throw CollectivesError(code: .invalidConfiguration, message: "shared memory not as requested", operation: "test")
            }
            return try CollectiveScenario.run(communicator)
        }
        try CollectiveScenario.verify(results, worldSize: worldSize)
    }

    /// The segment's name is unlinked once every rank mapped it, so nothing is left in /dev/shm
    /// even when a rank is later killed; the group's all-reduces still see each other's memory.
    @Test func sharedMemorySegmentIsUnlinkedAfterSetup() throws {
        let rendezvous = uniqueIPCEndpoint()
        let prefix = "radixserve-\(getpid())-"
        let results = runRanks(2) { rank -> [Float] in
            let communicator = try SocketCommunicator.connect(
                rank: rank, worldSize: 2, rendezvous: rendezvous, fingerprint: "f", timeout: .seconds(5))
            var values: [Float] = [Float(rank), 2]
            try communicator.allReduceSum(&values)
            try communicator.barrier()
            let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []
            guard communicator.usesSharedMemory, !leftovers.contains(where: { $0.hasPrefix(prefix) }) else {
                throw CollectivesError(code: .invalidConfiguration, message: "segment left: \(leftovers)", operation: "test")
            }
            return values
        }
        #expect(try results.map { try $0.get() } == [[1, 4], [1, 4]])
    }

    @Test(arguments: [0, 1 << 30])
    func ringAndDirectPathsBothWork(directThresholdBytes: Int) throws {
        let rendezvous = uniqueIPCEndpoint()
        let results = runRanks(3) { rank in
            let communicator = try SocketCommunicator.connect(
                rank: rank, worldSize: 3, rendezvous: rendezvous, fingerprint: "f", timeout: .seconds(20),
                sharedMemory: false)
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
