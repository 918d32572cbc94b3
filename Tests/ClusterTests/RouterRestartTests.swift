import Foundation
import ServingClient
import ServingTypes
import Testing
import TestSupport

/// A router that dies and comes back finds its workers again, with their caches.
@Suite struct RouterRestartTests {
    @Test func workersRegisterAgainAndTheRestartedRouterRebuildsTheirPrefixIndex() throws {
        let cluster = try LocalCluster(workerCount: 2)
        let sampling = SamplingFields(maxTokens: 4, temperature: 0, ignoreEOS: true)
        // Four 12-page system prompts, cached on whichever worker served each.
        let systems: [[Int]] = (0..<4).map { (group: Int) -> [Int] in
            let first: Int = 100 + 40 * group
            return Array(repeating: Array(first..<(first + 32)), count: 6).flatMap { $0 }
        }
        var before: [[Int]?] = []
        for system in systems {
            before.append(try cluster.client.complete(CompletionRequest(
                model: nil, prompt: .tokenIDs(system + [7, 8, 9]), sampling: sampling)).tokenIDs)
        }

        try cluster.restartRouter()
        try cluster.waitForRoutableWorkers(2)
        // Each worker re-registers, heartbeats a cache sequence the new router has not seen, and is
        // asked for a snapshot.
        for worker in 1...2 {
            let asked = cluster.router.wait(
                until: { cluster.router.standardError.contains("resynchronising worker-\(worker) from a snapshot") }, timeout: 30)
            #expect(asked, "worker \(worker) was not resynchronised: \(cluster.router.standardError)")
        }
        usleep(300_000)  // let the snapshots arrive

        for (index, system) in systems.enumerated() {
            let again = try cluster.client.complete(CompletionRequest(
                model: nil, prompt: .tokenIDs(system + [7, 8, 9]), sampling: sampling))
            #expect(again.tokenIDs == before[index])
            #expect(
                again.usage?.cachedTokens == system.count,
                "prompt \(index) did not land on the worker caching it: \(String(describing: again.usage))")
        }
        for worker in cluster.workers.values { #expect(worker.process.isRunning) }
    }
}
