import Collectives
import Foundation
import Testing
import Transport

/// Dead, silent, misconfigured and malicious peers: every case must end in an error within the
/// timeout, never a hang or a crash.
@Suite struct SocketCommunicatorFailureTests {
    static let shortTimeout = Duration.milliseconds(300)

    private func connect(
        _ rank: Int, _ worldSize: Int, _ rendezvous: String, fingerprint: String = "model-a tp=2", sharedMemory: Bool = true
    ) throws -> SocketCommunicator {
        try SocketCommunicator.connect(
            rank: rank, worldSize: worldSize, rendezvous: rendezvous, fingerprint: fingerprint,
            timeout: Self.shortTimeout, bootstrapTimeout: .seconds(5), sharedMemory: sharedMemory)
    }

    @Test(arguments: Medium.allCases)
    func rankThatNeverArrivesTimesOut(medium: Medium) throws {
        let start = ContinuousClock.now
        let error = #expect(throws: CollectivesError.self) {
            _ = try SocketCommunicator.connect(
                rank: 0, worldSize: 3, rendezvous: medium.rendezvous(), fingerprint: "f", timeout: Self.shortTimeout)
        }
        #expect(ContinuousClock.now - start < .seconds(1))
        #expect(error?.code == .timeout)
        #expect(error?.peer == 1)
    }

    @Test func missingRankZeroTimesOut() throws {
        let error = #expect(throws: CollectivesError.self) {
            _ = try SocketCommunicator.connect(
                rank: 1, worldSize: 2, rendezvous: freeTCPEndpoint(), fingerprint: "f", timeout: Self.shortTimeout)
        }
        #expect(error?.code == .timeout)
        #expect(error?.peer == 0)
    }

    /// 2 floats go through shared memory, 100,000 through the socket ring.
    @Test(arguments: [2, 100_000])
    func silentPeerTimesOutAndPoisons(count: Int) throws {
        let rendezvous = uniqueIPCEndpoint()
        let results = runRanks(2) { rank -> [CollectivesError] in
            let communicator = try connect(rank, 2, rendezvous)
            guard rank == 0 else {
                Thread.sleep(forTimeInterval: 1)
                return []
            }
            var values = [Float](repeating: 1, count: count)
            let start = ContinuousClock.now
            let first = #expect(throws: CollectivesError.self) { try communicator.allReduceSum(&values) }
            let elapsed = ContinuousClock.now - start
            #expect(elapsed >= .milliseconds(290) && elapsed < .milliseconds(900), "took \(elapsed)")
            let second = #expect(throws: CollectivesError.self) { try communicator.barrier() }
            #expect(communicator.failure?.code == .timeout)
            return [first, second].compactMap { $0 }
        }
        let errors = try results[0].get()
        #expect(errors.map(\.code) == [.timeout, .poisoned])
        #expect(errors.first?.peer == 1)
        #expect(errors.first?.operation == "allReduceSum")
    }

    /// The survivors wait in a socket barrier, or in a shared-memory all-reduce.
    @Test(arguments: [false, true])
    func closedPeerFailsOthersFast(inAllReduce: Bool) throws {
        let rendezvous = uniqueIPCEndpoint()
        let results = runRanks(3) { rank -> CollectivesError? in
            var communicator: SocketCommunicator? = try SocketCommunicator.connect(
                rank: rank, worldSize: 3, rendezvous: rendezvous, fingerprint: "f", timeout: .seconds(10))
            if rank == 2 {
                communicator = nil
                return nil
            }
            let start = ContinuousClock.now
            let error = #expect(throws: CollectivesError.self) {
                if inAllReduce {
                    var values: [Float] = [1, 2, 3, 4]
                    try communicator!.allReduceSum(&values)
                } else {
                    try communicator!.barrier()
                }
            }
            // Well before the 10 s timeout (the goodbye may take up to the close linger on a loaded host).
            #expect(ContinuousClock.now - start < .seconds(5))
            return error
        }
        for rank in 0..<2 {
            let error = try results[rank].get()
            // Rank 2's goodbye, or the goodbye of the survivor that saw it first.
            #expect(error?.code == .peerClosed, "\(String(describing: error))")
        }
    }

    @Test func fingerprintMismatchIsRefusedNamingBothValues() throws {
        let rendezvous = uniqueIPCEndpoint()
        let results = runRanks(2) { rank -> CollectivesError? in
            #expect(throws: CollectivesError.self) {
                _ = try connect(rank, 2, rendezvous, fingerprint: rank == 0 ? "llama-8b tp=2" : "qwen3-4b tp=2")
            }
        }
        for result in results {
            let error = try result.get()
            #expect(error?.code == .fingerprintMismatch)
            #expect(error?.message.contains("llama-8b tp=2") == true)
            #expect(error?.message.contains("qwen3-4b tp=2") == true)
        }
    }

    @Test func worldSizeMismatchIsRefused() throws {
        let rendezvous = uniqueIPCEndpoint()
        let results = runRanks(2) { rank -> CollectivesError.Code? in
            #expect(throws: CollectivesError.self) {
                _ = try connect(rank, rank == 0 ? 2 : 3, rendezvous)
            }?.code
        }
        #expect(try results.map { try $0.get() } == [.invalidConfiguration, .invalidConfiguration])
    }

    @Test func garbageOnTheRendezvousIsRejected() throws {
        let rendezvous = uniqueIPCEndpoint()
        let results = runRanks(2) { rank -> CollectivesError.Code? in
            if rank == 1 {
                let context = try ZMQContext()
                let dealer = try ZMQSocket(.dealer, context: context)
                try dealer.connect(rendezvous)
                try dealer.send([[0xde, 0xad, 0xbe, 0xef, 1, 2, 3]], timeout: .seconds(1))
                _ = try? dealer.receive(timeout: .seconds(2))
                return nil
            }
            return #expect(throws: CollectivesError.self) { _ = try connect(0, 2, rendezvous) }?.code
        }
        #expect(try results[0].get() == .protocolViolation)
    }

    @Test(arguments: [
        [[UInt8]]([[1, 2, 3]]),
        [[UInt8]]([[UInt8](repeating: 0xC5, count: 16), [1, 2]]),
        [[UInt8]]([[0xC5, 1, 2, 0, 1, 0, 0, 0, 99, 0, 0, 0, 0, 0, 0, 0], [1, 2, 3]]),
    ], [true, false])
    func garbageDataFramesAreRejected(frames: [[UInt8]], sharedMemory: Bool) throws {
        let rendezvous = uniqueIPCEndpoint()
        let results = runRanks(2) { rank -> CollectivesError.Code? in
            let communicator = try connect(rank, 2, rendezvous, sharedMemory: sharedMemory)
            if rank == 1 {
                try communicator.sendRawFramesForTesting(frames, to: 0)
                Thread.sleep(forTimeInterval: 0.5)
                return nil
            }
            var values = [Float](repeating: 1, count: 2)
            return #expect(throws: CollectivesError.self) { try communicator.allReduceSum(&values) }?.code
        }
        let code = try results[0].get()
        #expect(code == .protocolViolation || code == .sizeMismatch, "\(String(describing: code))")
    }

    /// A header with the expected call but a count above `Int.max` trapped while the error was
    /// built (`Int(header.count)`); found while writing the FuzzCollectives target (docs/FUZZING.md).
    @Test(arguments: [true, false])
    func countAboveIntMaxIsASizeMismatch(sharedMemory: Bool) throws {
        let rendezvous = uniqueIPCEndpoint()
        let header: [UInt8] = [0xC5, 1, 2, 0, 1, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 8)
        let results = runRanks(2) { rank -> CollectivesError? in
            let communicator = try connect(rank, 2, rendezvous, sharedMemory: sharedMemory)
            if rank == 1 {
                try communicator.sendRawFramesForTesting([header, [1, 2, 3]], to: 0)
                Thread.sleep(forTimeInterval: 0.5)
                return nil
            }
            var values = [Float](repeating: 1, count: 2)
            return #expect(throws: CollectivesError.self) { try communicator.allReduceSum(&values) }
        }
        let error = try results[0].get()
        #expect(error?.code == .sizeMismatch || error?.code == .protocolViolation, "\(String(describing: error))")
        if error?.code == .sizeMismatch { #expect(error?.message.contains("\(UInt64.max)") == true, "\(String(describing: error))") }
    }

    @Test(arguments: [true, false])
    func mismatchedCountsAreReported(sharedMemory: Bool) throws {
        let rendezvous = uniqueIPCEndpoint()
        let results = runRanks(2) { rank -> CollectivesError.Code? in
            let communicator = try connect(rank, 2, rendezvous, sharedMemory: sharedMemory)
            var values = [Float](repeating: 1, count: 10 + rank)
            return #expect(throws: CollectivesError.self) { try communicator.allReduceSum(&values) }?.code
        }
        #expect(try results.map { try $0.get() } == [.sizeMismatch, .sizeMismatch])
    }
}
