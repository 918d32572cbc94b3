import Benchmarks
import Foundation
import ServingClient
import ServingTypes
import Testing
import TestSupport

@Suite struct ServingBenchmarkTests {
    private func benchmark(
        _ fake: FakeCompletionServer, workload: BenchmarkWorkload, outputTokens: Int = 4, concurrency: Int = 4,
        warmUpRequests: Int = 1
    ) throws -> ServingBenchmark {
        ServingBenchmark(
            client: RouterClient(url: try ServingURL(fake.server.url), connectTimeout: .seconds(5), readTimeout: .seconds(10)),
            configuration: ServingBenchmark.Configuration(
                workload: workload, model: "demo", outputTokens: outputTokens, concurrency: concurrency,
                warmUpRequests: warmUpRequests, vocabulary: 100..<1000))
    }

    // MARK: - Workloads

    @Test func sharedPrefixGroupsShareExactlyTheirSystemPrompt() {
        var random = SeededRandom(seed: 1)
        let workload = BenchmarkWorkload.sharedPrefix(groups: 3, perGroup: 4, systemTokens: 32, questionTokens: 8)
        let conversations = workload.makeConversations(vocabulary: 100..<1000, using: &random)
        #expect(conversations.count == 12 && workload.requestCount == 12)
        let prompts = conversations.map { $0.turns[0] }
        #expect(prompts.allSatisfy { $0.count == 40 && $0.allSatisfy((100..<1000).contains) })
        let groups = Dictionary(grouping: prompts) { Array($0.prefix(32)) }
        #expect(groups.count == 3 && groups.values.allSatisfy { $0.count == 4 })
        // Shuffled: the first four requests are not all from one group.
        #expect(Set(prompts.prefix(4).map { Array($0.prefix(32)) }).count > 1)

        var again = SeededRandom(seed: 1)
        #expect(workload.makeConversations(vocabulary: 100..<1000, using: &again) == conversations)
    }

    @Test func multiTurnAndRandomShapes() {
        var random = SeededRandom(seed: 2)
        let multiTurn = BenchmarkWorkload.multiTurn(conversations: 5, turns: 3, systemTokens: 16, questionTokens: 4)
        let conversations = multiTurn.makeConversations(vocabulary: 100..<200, using: &random)
        #expect(conversations.count == 5 && multiTurn.requestCount == 15)
        #expect(conversations.allSatisfy { $0.turns.map(\.count) == [20, 4, 4] })
        #expect(multiTurn.longestSequence(outputTokens: 10) == 16 + 3 * 4 + 3 * 10)

        let randomWorkload = BenchmarkWorkload.random(requests: 6, promptTokens: 9)
        let prompts = randomWorkload.makeConversations(vocabulary: 100..<1000, using: &random).map { $0.turns[0] }
        #expect(prompts.count == 6 && prompts.allSatisfy { $0.count == 9 } && Set(prompts).count == 6)
        #expect(randomWorkload.longestSequence(outputTokens: 3) == 12)
    }

    @Test func percentilesInterpolateBetweenRanks() {
        let values = [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        #expect(LatencySummary.percentile(values, 0.5) == 5.5)
        #expect(abs(LatencySummary.percentile(values, 0.9) - 9.1) < 1e-9)
        #expect(abs(LatencySummary.percentile(values, 0.99) - 9.91) < 1e-9)
        #expect(LatencySummary.percentile([42], 0.99) == 42)
        let summary = LatencySummary([.milliseconds(10), .milliseconds(30)])
        #expect(summary.count == 2 && summary.meanMs == 20 && summary.p50Ms == 20)
        #expect(LatencySummary([]).p99Ms == nil)
    }

    // MARK: - Runs against a fake server

    @Test func sharedPrefixReportsTheServersCacheHitsAndExactTokenCounts() throws {
        let fake = try FakeCompletionServer()
        defer { fake.stop() }
        var random = SeededRandom(seed: 3)
        let workload = BenchmarkWorkload.sharedPrefix(groups: 4, perGroup: 4, systemTokens: 64, questionTokens: 16)
        let report = try benchmark(fake, workload: workload).run(using: &random)
        #expect(report.workload == "shared-prefix")
        #expect(report.requests == 16 && report.completed == 16 && report.failed == 0 && report.notSent == 0)
        #expect(report.promptTokens == 16 * 80)
        #expect(report.completionTokens == 16 * 4)
        // The warm-up request is sent and answered but not counted.
        #expect(fake.server.requests.count == 17)
        let measuredCached = fake.cachedTokens.dropFirst().reduce(0, +)
        #expect(report.cachedTokens == measuredCached)
        #expect(report.cacheHitRate == Double(measuredCached) / Double(16 * 80))
        // 12 of 16 requests follow one of their group: at least 12 × 64 cached tokens.
        #expect(report.cachedTokens >= 12 * 64)
        #expect(report.timeToFirstToken.count == 16 && report.endToEndLatency.count == 16)
        #expect(report.interTokenLatency.count == 16 * 3)
        #expect(report.outputTokensPerSecond > 0 && report.requestsPerSecond > 0)
        for request in fake.server.requests {
            let json = try #require(request.jsonObject)
            #expect(json["ignore_eos"] as? Bool == true && json["temperature"] as? Double == 0)
            #expect(json["stream"] as? Bool == true && json["model"] as? String == "demo")
        }
    }

    @Test func flushingAfterWarmUpForgetsAnEarlierRunWithTheSameSeed() throws {
        let fake = try FakeCompletionServer()
        defer { fake.stop() }
        let workload = BenchmarkWorkload.random(requests: 4, promptTokens: 32)
        func run(flushing: Bool) throws -> BenchmarkReport {
            var random = SeededRandom(seed: 6)
            var bench = try benchmark(fake, workload: workload, warmUpRequests: 0)
            bench.configuration.flushesCache = flushing
            return try bench.run(using: &random)
        }
        let first = try run(flushing: false)
        #expect(try run(flushing: false).cacheHitRate == 1)
        #expect(try run(flushing: true).cachedTokens == first.cachedTokens)
        #expect(fake.server.requests.filter { $0.path == "/flush_cache" }.count == 1)
    }

    @Test func multiTurnSendsThePreviousPromptAndOutputBeforeEachQuestion() throws {
        let fake = try FakeCompletionServer()
        defer { fake.stop() }
        let conversations = [
            BenchmarkConversation(turns: [[101, 102, 103], [201, 202], [301]]),
            BenchmarkConversation(turns: [[111, 112, 113, 114], [211]]),
        ]
        let report = try benchmark(fake, workload: .multiTurn(conversations: 2, turns: 3, systemTokens: 1, questionTokens: 2))
            .run(conversations: conversations, warmUpPrompts: [])
        #expect(report.completed == 5 && report.turnsWithoutOutputTokenIDs == 0)
        let prompts = Set(fake.server.requests.compactMap { $0.jsonObject?["prompt"] as? [Int] })
        let turn1 = [101, 102, 103]
        let turn2 = turn1 + FakeCompletionServer.output(for: turn1, count: 4) + [201, 202]
        let turn3 = turn2 + FakeCompletionServer.output(for: turn2, count: 4) + [301]
        let other = [111, 112, 113, 114]
        let other2 = other + FakeCompletionServer.output(for: other, count: 4) + [211]
        #expect(prompts == [turn1, turn2, turn3, other, other2])
        // Every later turn finds its whole history cached.
        #expect(report.cachedTokens == (turn1.count + 4) + (turn2.count + 4) + (other.count + 4))
    }

    @Test func multiTurnWithoutTokenIDsGoesOnWithoutTheOutputAndSaysSo() throws {
        let fake = try FakeCompletionServer(options: .init(returnsTokenIDs: false))
        defer { fake.stop() }
        let report = try benchmark(fake, workload: .multiTurn(conversations: 1, turns: 2, systemTokens: 1, questionTokens: 1))
            .run(conversations: [BenchmarkConversation(turns: [[101, 102], [201]])], warmUpPrompts: [])
        #expect(report.completed == 2 && report.turnsWithoutOutputTokenIDs == 1)
        #expect(fake.server.requests.last?.jsonObject?["prompt"] as? [Int] == [101, 102, 201])
    }

    @Test func failuresAreCountedWithTheirMessagesAndLaterTurnsAreNotSent() throws {
        // With one thread, requests 2 and 4 are the second turns of the first two conversations.
        let fake = try FakeCompletionServer(options: .init(fails: { $0 == 2 || $0 == 4 }))
        defer { fake.stop() }
        let conversations = (0..<3).map { index in BenchmarkConversation(turns: [[100 + index], [200], [300]]) }
        let report = try benchmark(
            fake, workload: .multiTurn(conversations: 3, turns: 3, systemTokens: 1, questionTokens: 1), concurrency: 1
        ).run(conversations: conversations, warmUpPrompts: [])
        #expect(report.requests == 9)
        #expect(report.failed == 2 && report.notSent == 2 && report.completed == 5)
        #expect(report.failures == [
            .init(
                message: "POST /v1/completions failed with HTTP 500 Internal Server Error: worker lost [server_error]",
                count: 2)
        ])
        #expect(fake.server.requests.count == 7)
    }

    @Test func failedWarmUpStopsTheRun() throws {
        let fake = try FakeCompletionServer(options: .init(fails: { $0 == 1 }))
        defer { fake.stop() }
        let error = try #require(throws: ServingClientError.self) {
            try benchmark(fake, workload: .random(requests: 2, promptTokens: 4)).run(
                conversations: [BenchmarkConversation(turns: [[1]])], warmUpPrompts: [[5, 6]])
        }
        #expect(error.description.contains("warm-up"))
        #expect(error.description.contains("worker lost"))
        #expect(fake.server.requests.count == 1)
    }

    @Test func unreachableServerMakesEveryMeasuredRequestFail() throws {
        let port = try ScriptedHTTPServer.unusedPort()
        let bench = ServingBenchmark(
            client: RouterClient(url: try ServingURL("http://127.0.0.1:\(port)")),
            configuration: .init(workload: .random(requests: 3, promptTokens: 2), concurrency: 2, warmUpRequests: 0))
        var random = SeededRandom(seed: 4)
        let report = try bench.run(using: &random)
        #expect(report.completed == 0 && report.failed == 3)
        #expect(report.failures.first?.message == "could not connect to http://127.0.0.1:\(port): connection refused")
        #expect(report.timeToFirstToken.p50Ms == nil && report.cacheHitRate == 0)
        // The text report shows a dash for every latency never measured.
        let dashes = Array(repeating: "        -", count: 4).joined(separator: " ")
        #expect(report.summary.contains("\ntime to first token " + dashes + "\n"))
        #expect(report.summary.contains("\nend to end          " + dashes + "\n"))
        #expect(report.summary.hasSuffix("failed ×3: could not connect to http://127.0.0.1:\(port): connection refused\n"))
    }

    @Test func measuresTimeToFirstTokenAndInterTokenLatency() throws {
        let fake = try FakeCompletionServer(options: .init(firstTokenDelay: .milliseconds(120), tokenDelay: .milliseconds(40)))
        defer { fake.stop() }
        var random = SeededRandom(seed: 5)
        let report = try benchmark(fake, workload: .random(requests: 4, promptTokens: 8), outputTokens: 3, concurrency: 4,
            warmUpRequests: 0).run(using: &random)
        #expect(report.completed == 4)
        #expect(try #require(report.timeToFirstToken.p50Ms) >= 110)
        #expect(try #require(report.interTokenLatency.p50Ms) >= 30)
        #expect(try #require(report.timePerOutputToken.p50Ms) >= 30)
        #expect(try #require(report.endToEndLatency.p50Ms) >= 190)
        // Four requests at once take about one request's time, not four.
        #expect(report.durationSeconds < 4 * 0.2)
    }
}
