import Collectives
import Foundation
import Testing

@Suite struct LocalCommunicatorTests {
    @Test(arguments: [1, 2, 3, 4])
    func collectivesMatchReferenceAndAgreeBitwise(worldSize: Int) throws {
        let group = LocalCommunicator.makeGroup(worldSize: worldSize, timeout: .seconds(20))
        let results = runRanks(worldSize) { rank in
            try CollectiveScenario.run(group.makeCommunicator(rank: rank))
        }
        try CollectiveScenario.verify(results, worldSize: worldSize)
    }

    @Test func silentPeerTimesOutThenPoisons() throws {
        let group = LocalCommunicator.makeGroup(worldSize: 2, timeout: .milliseconds(300))
        let results = runRanks(2) { rank -> [CollectivesError] in
            let communicator = group.makeCommunicator(rank: rank)
            guard rank == 0 else {
                Thread.sleep(forTimeInterval: 0.8)
                return []
            }
            var values: [Float] = [1, 2, 3]
            let start = ContinuousClock.now
            let first = #expect(throws: CollectivesError.self) { try communicator.allReduceSum(&values) }
            #expect(ContinuousClock.now - start < .milliseconds(1000))
            let second = #expect(throws: CollectivesError.self) { try communicator.barrier() }
            return [first, second].compactMap { $0 }
        }
        let errors = try results[0].get()
        #expect(errors.map(\.code) == [.timeout, .poisoned])
        #expect(errors.first?.peer == 1)
    }

    @Test func closedPeerFailsWaitersFast() throws {
        let group = LocalCommunicator.makeGroup(worldSize: 3, timeout: .seconds(10))
        let results = runRanks(3) { rank -> CollectivesError.Code? in
            let communicator = group.makeCommunicator(rank: rank)
            if rank == 2 {
                communicator.close()
                return nil
            }
            do {
                try communicator.barrier()
                return nil
            } catch let error as CollectivesError {
                return error.code
            }
        }
        #expect(try results[0].get() == .peerClosed)
        #expect(try results[1].get() == .peerClosed)
    }

    @Test func mismatchedCountsAreReported() throws {
        let group = LocalCommunicator.makeGroup(worldSize: 2, timeout: .seconds(5))
        let results = runRanks(2) { rank -> CollectivesError.Code? in
            var values = [Float](repeating: 1, count: 4 + rank)
            do {
                try group.makeCommunicator(rank: rank).allReduceSum(&values)
                return nil
            } catch let error as CollectivesError {
                return error.code
            }
        }
        #expect(try results.map { try $0.get() } == [.sizeMismatch, .sizeMismatch])
    }
}
