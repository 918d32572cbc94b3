import Foundation
import ServingClient
import ServingTypes
import Testing
import TestSupport

/// SIGTERM to a worker process: it finishes what it runs, takes nothing new, and leaves.
@Suite struct WorkerDrainTests {
    @Test func aWorkerStoppedWithSIGTERMFinishesItsStreamAndLeaves() throws {
        let cluster = try LocalCluster(workerCount: 1)
        let prompt = Array(100..<124)
        let request = CompletionRequest(
            model: nil, prompt: .tokenIDs(prompt), sampling: SamplingFields(maxTokens: 600, temperature: 0, ignoreEOS: true),
            returnTokenIDs: true)
        let results = ConcurrentResults()
        let streaming = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        DispatchQueue.global().async(group: done) {
            var signalled = false
            results.record(Result {
                try cluster.client.streamCompletion(request) { _ in
                    if !signalled {
                        signalled = true
                        streaming.signal()
                    }
                }.completion
            })
        }
        #expect(streaming.wait(timeout: .now() + 120) == .success, "the request never started streaming")
        try cluster.startWorker(2)
        try cluster.waitForRoutableWorkers(2)
        let draining = try #require(cluster.workers[1])
        draining.signal(SIGTERM)
        #expect(cluster.router.wait(until: { cluster.router.standardError.contains("worker-1 is shutting down") }, timeout: 30))

        // New work goes to the other worker meanwhile.
        let other = try cluster.client.complete(CompletionRequest(
            model: nil, prompt: .tokenIDs([5, 6, 7]), sampling: SamplingFields(maxTokens: 4, temperature: 0, ignoreEOS: true)))
        #expect(other.usage?.completionTokens == 4)

        #expect(done.wait(timeout: .now() + 180) == .success, "the draining worker's stream did not end")
        #expect(results.failures.isEmpty, "\(results.failures)")
        let streamed = try #require(results.completions.first)
        #expect(streamed.tokenIDs?.count == 600)
        #expect(draining.finish(timeout: 30) == 0, "the drained worker did not exit cleanly: \(draining.standardError)")
        #expect(draining.standardError.contains("draining"))
        #expect(!cluster.router.standardError.contains("worker-1 missed"), "the router waited for heartbeats instead of the worker's leaving")
        // Greedy: the same request on the remaining worker gives the same tokens.
        let again = try cluster.client.complete(request)
        #expect(again.tokenIDs == streamed.tokenIDs)
        try cluster.waitForRoutableWorkers(1)
        #expect(try cluster.client.workers().map(\.id) == [2])
    }
}
