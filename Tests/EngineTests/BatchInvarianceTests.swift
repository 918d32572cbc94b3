import Certification
import Engine
import Scheduling
import ServingTypes
import Testing
import TestSupport

/// Greedy outputs do not depend on what else is batched, on chunking, or on prefix-cache hits.
@Suite struct BatchInvarianceTests {
    /// The CPU backend on every fixture, and the OpenCL plugin on PoCL where it was built.
    static let cases: [(String, String)] = Fixtures.modelNames.map { ($0, "cpu") }
        + (Fixtures.openCLPluginBackend.map { backend in Fixtures.modelNames.map { ($0, backend) } } ?? [])

    @Test(arguments: cases)
    func batchedGreedyMatchesTransformersAndSoloRuns(model name: String, backend: String) throws {
        let reference = try ModelReference.load(name)
        let collector = EventCollector()
        let engine = try EngineHarness.engine(name, backend: backend, collector: collector)
        defer { engine.shutdown() }

        // Each prompt alone.
        var nextID: UInt64 = 0
        func requests(copies: Int) -> [EngineRequest] {
            (0..<copies).flatMap { _ in reference.prompts }.map { prompt in
                nextID += 1
                return EngineRequest(id: RequestID(nextID), promptTokenIDs: prompt.promptTokenIDs, params: EngineHarness.greedy)
            }
        }
        var solo: [[Int32]] = []
        for request in requests(copies: 1) {
            solo.append(try EngineHarness.run([request], on: engine, collector: collector)[0].tokenIDs)
        }
        engine.flushCache()

        // Three copies of every prompt at once, then the same wave again (now hitting the cache).
        for wave in 0..<2 {
            let batch = requests(copies: 3)
            let outputs = try EngineHarness.run(batch, on: engine, collector: collector)
            for (index, output) in outputs.enumerated() {
                let prompt = reference.prompts[index % reference.prompts.count]
                #expect(output.violations.isEmpty)
                #expect(output.reason == .length)
                #expect(output.tokenIDs == prompt.greedyTokenIDs, "\(name) wave \(wave) request \(index)")
                #expect(output.tokenIDs == solo[index % solo.count])
                if wave == 1 && prompt.promptTokenIDs.count >= 8 {
                    #expect((output.usage?.cachedTokenCount ?? 0) > 0, "\(name): second wave should hit the cache")
                }
            }
        }
    }
}
