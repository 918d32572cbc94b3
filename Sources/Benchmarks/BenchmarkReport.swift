import ServingClient
import ServingTypes

/// What a ``ServingBenchmark`` run measured (warm-up excluded).
///
/// Token counts come from each response's `usage`; throughputs divide by the wall time of the
/// measured phase; the cache hit rate is Σ `cached_tokens` / Σ `prompt_tokens` over completed
/// requests. Failed requests are counted and their messages kept, never dropped. Encodes as
/// snake_case JSON with latencies in milliseconds.
public struct BenchmarkReport: Sendable, Encodable {
    /// A distinct failure message and how many requests ended with it.
    public struct Failure: Sendable, Equatable, Encodable {
        public var message: String
        public var count: Int

        public init(message: String, count: Int) {
            self.message = message
            self.count = count
        }
    }

    public var workload: String
    public var url: String
    public var model: String?
    public var concurrency: Int
    public var outputTokensPerRequest: Int
    /// Requests the workload plans to send.
    public var requests: Int
    public var completed: Int
    /// Requests sent that ended in an error.
    public var failed: Int
    /// Later turns not sent because an earlier turn of their conversation failed.
    public var notSent: Int
    public var durationSeconds: Double
    public var requestsPerSecond: Double
    public var outputTokensPerSecond: Double
    /// Prompt tokens per second, cached ones included.
    public var inputTokensPerSecond: Double
    public var promptTokens: Int
    public var completionTokens: Int
    public var cachedTokens: Int
    /// Σ cached_tokens / Σ prompt_tokens, in 0...1.
    public var cacheHitRate: Double
    /// Requests whose usage had no `cached_tokens` (counted as 0 cached).
    public var requestsWithoutCachedTokens: Int
    /// Multi-turn turns whose response lacked the output token ids, so the next turn went on
    /// without the previous output (`return_token_ids` unsupported by the server).
    public var turnsWithoutOutputTokenIDs: Int
    public var timeToFirstToken: LatencySummary
    public var interTokenLatency: LatencySummary
    public var endToEndLatency: LatencySummary
    /// Time per output token after the first: (latency − TTFT) / (completion tokens − 1).
    public var timePerOutputToken: LatencySummary
    /// Most frequent first.
    public var failures: [Failure]

    enum CodingKeys: String, CodingKey {
        case workload, url, model, concurrency, requests, completed, failed, failures
        case outputTokensPerRequest = "output_tokens_per_request"
        case notSent = "not_sent"
        case durationSeconds = "duration_seconds"
        case requestsPerSecond = "requests_per_second"
        case outputTokensPerSecond = "output_tokens_per_second"
        case inputTokensPerSecond = "input_tokens_per_second"
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case cachedTokens = "cached_tokens"
        case cacheHitRate = "cache_hit_rate"
        case requestsWithoutCachedTokens = "requests_without_cached_tokens"
        case turnsWithoutOutputTokenIDs = "turns_without_output_token_ids"
        case timeToFirstToken = "time_to_first_token"
        case interTokenLatency = "inter_token_latency"
        case endToEndLatency = "end_to_end_latency"
        case timePerOutputToken = "time_per_output_token"
    }
}

/// One measured request.
struct RequestRecord: Sendable {
    enum Outcome: Sendable {
        case completed(StreamedCompletion)
        case failed(String)
        case notSent
    }

    var outcome: Outcome
    var lacksOutputTokenIDs = false
}

extension BenchmarkReport {
    /// Aggregates `records` of a phase that lasted `duration`.
    init(records: [RequestRecord], duration: Duration, configuration: ServingBenchmark.Configuration, url: ServingURL) {
        var completions: [StreamedCompletion] = []
        var failureCounts: [String: Int] = [:]
        var notSent = 0
        for record in records {
            switch record.outcome {
            case .completed(let streamed): completions.append(streamed)
            case .failed(let message): failureCounts[message, default: 0] += 1
            case .notSent: notSent += 1
            }
        }
        let usages = completions.compactMap(\.completion.usage)
        let seconds = max(duration.milliseconds / 1000, 1e-9)
        workload = configuration.workload.name
        self.url = url.description
        model = configuration.model
        concurrency = configuration.concurrency
        outputTokensPerRequest = configuration.outputTokens
        requests = configuration.workload.requestCount
        completed = completions.count
        failed = failureCounts.values.reduce(0, +)
        self.notSent = notSent
        durationSeconds = seconds
        promptTokens = usages.reduce(0) { $0 + $1.promptTokens }
        completionTokens = usages.reduce(0) { $0 + $1.completionTokens }
        cachedTokens = usages.reduce(0) { $0 + ($1.cachedTokens ?? 0) }
        requestsWithoutCachedTokens = usages.filter { $0.cachedTokens == nil }.count
        cacheHitRate = promptTokens == 0 ? 0 : Double(cachedTokens) / Double(promptTokens)
        requestsPerSecond = Double(completed) / seconds
        outputTokensPerSecond = Double(completionTokens) / seconds
        inputTokensPerSecond = Double(promptTokens) / seconds
        turnsWithoutOutputTokenIDs = records.filter(\.lacksOutputTokenIDs).count
        timeToFirstToken = LatencySummary(completions.compactMap(\.timeToFirstToken))
        interTokenLatency = LatencySummary(completions.flatMap(\.interTokenLatencies))
        endToEndLatency = LatencySummary(completions.map(\.latency))
        timePerOutputToken = LatencySummary(
            completions.compactMap { streamed in
                guard let first = streamed.timeToFirstToken, let tokens = streamed.completion.usage?.completionTokens,
                    tokens > 1
                else { return nil }
                return (streamed.latency - first) / (tokens - 1)
            })
        failures = failureCounts.map { Failure(message: $0.key, count: $0.value) }
            .sorted { ($0.count, $1.message) > ($1.count, $0.message) }
    }
}
