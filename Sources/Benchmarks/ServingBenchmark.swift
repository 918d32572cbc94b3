import Foundation
import ServingClient
import ServingTypes
import Synchronization

/// Load test of a server through `/v1/completions`: sends a ``BenchmarkWorkload`` with a fixed
/// number of requests in flight and reports latency, throughput and prefix-cache hit rate.
///
/// Every request streams (`stream: true`, `stream_options.include_usage: true`) with
/// `temperature: 0` and `ignore_eos: true`, so each generates exactly
/// ``Configuration/outputTokens`` tokens. `concurrency` OS threads each keep one request (one
/// connection) open at a time; a multi-turn conversation stays on one thread, turn after turn.
/// ``run(conversations:warmUpPrompts:)`` blocks its caller until every request has ended.
public struct ServingBenchmark: Sendable {
    /// What to send and how hard.
    public struct Configuration: Sendable {
        public var workload: BenchmarkWorkload
        /// The served model name; nil omits the field.
        public var model: String?
        /// Tokens each request generates.
        public var outputTokens: Int
        /// Requests in flight at once.
        public var concurrency: Int
        /// Unmeasured requests sent first (all at once, up to `concurrency`).
        public var warmUpRequests: Int
        /// Token ids are drawn from this range; keep it inside the model's ordinary tokens.
        public var vocabulary: Range<Int>
        /// `POST /flush_cache` after the warm-up, so prompts cached by an earlier run with the same
        /// seed do not count as hits.
        public var flushesCache: Bool

        public init(
            workload: BenchmarkWorkload, model: String? = nil, outputTokens: Int = 32, concurrency: Int = 16,
            warmUpRequests: Int = 2, vocabulary: Range<Int> = 100..<1000, flushesCache: Bool = false
        ) {
            self.workload = workload
            self.model = model
            self.outputTokens = outputTokens
            self.concurrency = concurrency
            self.warmUpRequests = warmUpRequests
            self.vocabulary = vocabulary
            self.flushesCache = flushesCache
        }

        /// A ``vocabulary`` written `LOW:HIGH` (token ids in `LOW..<HIGH`, as `--vocab-range`
        /// takes it); nil unless both are integers with 0 ≤ LOW < HIGH.
        public static func vocabulary(_ text: String) -> Range<Int>? {
            let bounds = text.split(separator: ":", omittingEmptySubsequences: false)
            guard bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]), low >= 0, low < high else {
                return nil
            }
            return low..<high
        }
    }

    public var client: RouterClient
    public var configuration: Configuration

    public init(client: RouterClient, configuration: Configuration) {
        precondition(configuration.concurrency >= 1 && configuration.outputTokens >= 1, "positive concurrency and output")
        precondition(!configuration.vocabulary.isEmpty, "a non-empty vocabulary range")
        self.client = client
        self.configuration = configuration
    }

    /// Draws the workload's prompts and warm-up prompts from `generator`, then runs them.
    public func run(using generator: inout some RandomNumberGenerator) throws -> BenchmarkReport {
        let conversations = configuration.workload.makeConversations(
            vocabulary: configuration.vocabulary, using: &generator)
        let length = configuration.workload.firstPromptLength
        let warmUp = (0..<configuration.warmUpRequests).map { _ in
            (0..<length).map { _ in Int.random(in: configuration.vocabulary, using: &generator) }
        }
        return try run(conversations: conversations, warmUpPrompts: warmUp)
    }

    /// Sends `warmUpPrompts` (throwing if any fails: the server is not serving), flushes the cache
    /// if configured, then measures `conversations`. Failures in the measured phase are counted in
    /// the report, not thrown.
    public func run(conversations: [BenchmarkConversation], warmUpPrompts: [[Int]]) throws -> BenchmarkReport {
        let warmUpFailures = Shared<[String]>([])
        Self.onThreads(min(configuration.concurrency, warmUpPrompts.count), jobs: warmUpPrompts.count) { index in
            do {
                _ = try client.streamCompletion(request(prompt: warmUpPrompts[index], wantsTokenIDs: false))
            } catch {
                warmUpFailures.value.withLock { $0.append("\(error)") }
            }
        }
        if let failure = warmUpFailures.value.withLock({ $0.first }) {
            throw ServingClientError.server("a warm-up request failed, so nothing was measured: \(failure)")
        }
        if configuration.flushesCache { try client.flushCache() }

        let records = Shared<[[RequestRecord]]>(Array(repeating: [], count: conversations.count))
        let start = ContinuousClock.now
        Self.onThreads(min(configuration.concurrency, conversations.count), jobs: conversations.count) { index in
            let result = converse(conversations[index])
            records.value.withLock { $0[index] = result }
        }
        let duration = ContinuousClock.now - start
        return BenchmarkReport(
            records: records.value.withLock { $0.flatMap { $0 } }, duration: duration, configuration: configuration,
            url: client.url)
    }

    // MARK: - Private

    /// Sends the turns of `conversation` in order; after a failure the remaining turns are not sent.
    private func converse(_ conversation: BenchmarkConversation) -> [RequestRecord] {
        var records: [RequestRecord] = []
        var history: [Int] = []
        for (turn, question) in conversation.turns.enumerated() {
            if case .failed = records.last?.outcome {
                records += Array(repeating: RequestRecord(outcome: .notSent), count: conversation.turns.count - turn)
                break
            }
            let prompt = history + question
            let hasNextTurn = turn + 1 < conversation.turns.count
            do {
                let streamed = try client.streamCompletion(request(prompt: prompt, wantsTokenIDs: hasNextTurn))
                guard let usage = streamed.completion.usage else {
                    records.append(RequestRecord(outcome: .failed("the stream had no usage chunk (include_usage ignored)")))
                    continue
                }
                var record = RequestRecord(outcome: .completed(streamed))
                history = prompt
                if hasNextTurn {
                    if let ids = streamed.completion.tokenIDs, ids.count == usage.completionTokens {
                        history += ids
                    } else {
                        record.lacksOutputTokenIDs = true
                    }
                }
                records.append(record)
            } catch {
                records.append(RequestRecord(outcome: .failed("\(error)")))
            }
        }
        return records
    }

    private func request(prompt: [Int], wantsTokenIDs: Bool) -> CompletionRequest {
        CompletionRequest(
            model: configuration.model, prompt: .tokenIDs(prompt),
            sampling: SamplingFields(maxTokens: configuration.outputTokens, temperature: 0, ignoreEOS: true),
            returnTokenIDs: wantsTokenIDs)
    }

    /// Runs `body(job)` for every job in `0..<jobs` on `threadCount` new threads, each taking the
    /// next job when it finishes one; returns when all are done.
    private static func onThreads(_ threadCount: Int, jobs: Int, _ body: @escaping @Sendable (Int) -> Void) {
        guard jobs > 0 else { return }
        let next = Shared<Int>(0)
        let done = DispatchGroup()
        for _ in 0..<max(1, threadCount) {
            done.enter()
            Thread {
                defer { done.leave() }
                while true {
                    let job = next.value.withLock { value in
                        defer { value += 1 }
                        return value
                    }
                    guard job < jobs else { return }
                    body(job)
                }
            }.start()
        }
        done.wait()
    }
}

/// A value shared by the benchmark's threads, behind a lock.
private final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>

    init(_ value: Value) {
        self.value = Mutex(value)
    }
}

extension ServingBenchmark {
    /// `bench --url`: runs `configuration` against `router` with prompts drawn from `seed`.
    public static func run(router: RouterClient, configuration: Configuration, seed: UInt64) throws -> BenchmarkReport {
        var random = SeededRandom(seed: seed)
        return try ServingBenchmark(router: router, configuration: configuration).run(using: &random)
    }
}
