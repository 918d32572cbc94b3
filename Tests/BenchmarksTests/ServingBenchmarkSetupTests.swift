import Benchmarks
import Foundation
import ServingClient
import ServingTypes
import Testing
import TestSupport

/// `bench --url` around the benchmark itself: the workload a name means, the model it asks a
/// router for, and the text report.
@Suite struct ServingBenchmarkSetupTests {
    private static func models(_ body: String) throws -> ScriptedHTTPServer {
        try ScriptedHTTPServer { _ in [.send(ScriptedHTTPServer.response(body: body))] }
    }

    private static func client(_ server: ScriptedHTTPServer) throws -> RouterClient {
        RouterClient(url: try ServingURL(server.url), connectTimeout: .seconds(5), readTimeout: .seconds(10))
    }

    @Test func workloadNamesPickTheirShapes() {
        func workload(_ name: String) -> BenchmarkWorkload {
            BenchmarkWorkload(
                name: name, groups: 3, perGroup: 4, turns: 5, systemTokens: 64, questionTokens: 8, requests: 9, promptTokens: 16)
        }
        #expect(workload("multi-turn") == .multiTurn(conversations: 3, turns: 5, systemTokens: 64, questionTokens: 8))
        #expect(workload("random") == .random(requests: 9, promptTokens: 16))
        #expect(workload("shared-prefix") == .sharedPrefix(groups: 3, perGroup: 4, systemTokens: 64, questionTokens: 8))
    }

    @Test func vocabularyRangesAreLowColonHigh() {
        #expect(ServingBenchmark.Configuration.vocabulary("100:1000") == 100..<1000)
        #expect(ServingBenchmark.Configuration.vocabulary("0:1") == 0..<1)
        for malformed in ["1000:100", "5:5", "-1:10", "100", "1:2:3", ":10", "a:b"] {
            #expect(ServingBenchmark.Configuration.vocabulary(malformed) == nil, "\(malformed)")
        }
    }

    @Test func asksTheRouterForItsFirstModelUnlessOneIsNamed() throws {
        let server = try Self.models(#"{"object":"list","data":[{"id":"demo","max_model_len":4096},{"id":"other"}]}"#)
        defer { server.stop() }
        let workload = BenchmarkWorkload.random(requests: 2, promptTokens: 8)
        let first = try ServingBenchmark(router: Self.client(server), configuration: .init(workload: workload))
        #expect(first.configuration.model == "demo")
        let named = try ServingBenchmark(router: Self.client(server), configuration: .init(workload: workload, model: "other"))
        #expect(named.configuration.model == "other")
        #expect(server.requests.map(\.path) == ["/v1/models", "/v1/models"])
    }

    @Test func refusesAWorkloadLongerThanTheModelsContext() throws {
        let server = try Self.models(#"{"object":"list","data":[{"id":"demo","max_model_len":100}]}"#)
        defer { server.stop() }
        let fits = BenchmarkWorkload.multiTurn(conversations: 1, turns: 2, systemTokens: 40, questionTokens: 10)
        _ = try ServingBenchmark(router: Self.client(server), configuration: .init(workload: fits, outputTokens: 20))
        let overflow = try #require(throws: BenchmarkContextOverflow.self) {
            try ServingBenchmark(router: Self.client(server), configuration: .init(workload: fits, outputTokens: 21))
        }
        #expect(overflow == BenchmarkContextOverflow(model: "demo", neededTokens: 102, maxModelLength: 100))
        // A model the router does not list has no known context.
        _ = try ServingBenchmark(
            router: Self.client(server), configuration: .init(workload: fits, model: "unlisted", outputTokens: 500))
    }

    @Test func summarizesARunLineByLine() throws {
        let fake = try FakeCompletionServer(options: .init(fails: { $0 == 3 }))
        defer { fake.stop() }
        let bench = ServingBenchmark(
            client: try Self.client(fake.server),
            configuration: .init(
                workload: .random(requests: 4, promptTokens: 8), model: "demo", outputTokens: 3, concurrency: 1,
                warmUpRequests: 0))
        var random = SeededRandom(seed: 1)
        let lines = try bench.run(using: &random).summary.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "random against \(fake.server.url) (model demo): 4 requests, concurrency 1, 3 output tokens each")
        #expect(lines[1].hasPrefix("completed 3, failed 1, not sent 0 in "))
        #expect(lines[2].hasPrefix("throughput: ") && lines[2].contains(" req/s, output "))
        #expect(lines[3].hasPrefix("cache hit rate: ") && lines[3].hasSuffix(" of 24 prompt tokens cached)"))
        #expect(lines[4] == "latency (ms)          mean       p50       p90       p99")
        #expect(lines[5...8].map { $0.prefix(20) } == ["time to first token ", "inter-token         ", "per output token    ", "end to end          "])
        #expect(lines[5...8].allSatisfy { $0.count == 20 + 4 * 9 + 3 })
        #expect(lines[9] == "failed ×1: POST /v1/completions failed with HTTP 500 Internal Server Error: worker lost [server_error]")
        #expect(lines[10] == "" && lines.count == 11)
    }
}
