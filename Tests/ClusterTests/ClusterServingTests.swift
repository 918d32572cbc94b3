import Certification
import Foundation
import ServingClient
import ServingTypes
import Testing
import TestSupport

/// A real router and real workers on loopback, driven over HTTP.
@Suite(.serialized) struct ClusterServingTests {
    struct GenerateLine: Decodable {
        var tokenIDs: [Int]
        var text: String
        enum CodingKeys: String, CodingKey {
            case tokenIDs = "token_ids"
            case text
        }
    }

    /// What `radixserve generate` (one process, no router) produces for the same greedy request.
    func singleProcess(_ arguments: [String]) throws -> GenerateLine {
        let outcome = try ProcessHarness.run(
            ["generate", "--model", Fixtures.demoModel.path, "--temperature", "0", "--max-tokens", "24", "--json"] + arguments)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        return try JSONDecoder().decode(GenerateLine.self, from: Data(outcome.standardOutput.utf8))
    }

    static let greedy = SamplingFields(maxTokens: 24, temperature: 0)

    @Test func completionsAndChatEqualTheSingleProcessEngine() throws {
        let cluster = try LocalCluster(workerCount: 2)
        let prompt = "Once upon a time, Mira"
        let local = try singleProcess(["--prompt", prompt])
        let request = CompletionRequest(model: nil, prompt: .text(prompt), sampling: Self.greedy, returnTokenIDs: true)
        let whole = try cluster.client.complete(request)
        #expect(whole.tokenIDs == local.tokenIDs)
        // The router's text leaves out special tokens (the end-of-turn marker), as OpenAI servers do.
        #expect(whole.text == local.text)
        let streamed = try cluster.client.streamCompletion(request)
        #expect(streamed.completion.text == local.text)
        #expect(streamed.completion.tokenIDs == local.tokenIDs)
        #expect(streamed.completion.usage?.completionTokens == local.tokenIDs.count)

        let question = "Where does Mira live?"
        var localChat = try singleProcess(["--chat", question])
        localChat.text = localChat.text.replacingOccurrences(of: "<|im_end|>", with: "")
        let chat = ChatCompletionRequest(model: nil, messages: [ChatMessage(role: "user", content: question)], sampling: Self.greedy)
        let wholeChat = try cluster.client.chat(chat)
        #expect(wholeChat.text == localChat.text)
        #expect(wholeChat.text.hasPrefix("She lives in a small blue house"))
        let streamedChat = try cluster.client.streamChat(chat)
        #expect(streamedChat.completion.text == localChat.text)
        #expect(streamedChat.completion.finishReason == wholeChat.finishReason)
    }

    @Test func completionsFromTokenIDsMatchTransformers() throws {
        let cluster = try LocalCluster(workerCount: 2)
        let reference = try ModelReference.load("demo")
        for prompt in reference.prompts {
            let sampling = SamplingFields(maxTokens: prompt.greedyTokenIDs.count, temperature: 0, ignoreEOS: true)
            let request = CompletionRequest(
                model: nil, prompt: .tokenIDs(prompt.promptTokenIDs.map(Int.init)), sampling: sampling, returnTokenIDs: true)
            let completion = try cluster.client.complete(request)
            #expect(completion.tokenIDs == prompt.greedyTokenIDs.map(Int.init), "prompt \(prompt.text.debugDescription)")
        }
    }

    @Test func sharedPrefixesLandOnTheWorkerHoldingThemAndUnrelatedLoadSpreads() throws {
        let cluster = try LocalCluster(workerCount: 2)
        let system = Array(repeating: Array(100..<132), count: 6).flatMap { $0 }  // 192 tokens, 12 pages
        let first = try cluster.client.complete(CompletionRequest(
            model: nil, prompt: .tokenIDs(system + [7, 8, 9]), sampling: SamplingFields(maxTokens: 4, temperature: 0, ignoreEOS: true)))
        #expect(first.usage?.cachedTokens == 0)
        // Let the worker's `stored` event reach the router's index (the pending entry also covers this).
        usleep(300_000)
        for question in 0..<4 {
            let completion = try cluster.client.complete(CompletionRequest(
                model: nil, prompt: .tokenIDs(system + [200 + question, 11, 12]),
                sampling: SamplingFields(maxTokens: 4, temperature: 0, ignoreEOS: true)))
            #expect(
                completion.usage?.cachedTokens == system.count,
                "question \(question) missed the cached system prompt: \(String(describing: completion.usage)), \((try? cluster.client.metrics()) ?? "")")
        }
        // Unrelated prompts sent together spread over both workers.
        let results = ConcurrentResults()
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            let prompt = (0..<40).map { 300 + index * 50 + $0 }
            results.record(Result {
                try cluster.client.complete(CompletionRequest(
                    model: nil, prompt: .tokenIDs(prompt), sampling: SamplingFields(maxTokens: 16, temperature: 0, ignoreEOS: true)))
            })
        }
        #expect(results.failures.isEmpty, "\(results.failures)")
        let metrics = try cluster.client.metrics()
        for worker in 1...2 {
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("sgl_router_processed_requests_total{worker=\"\(worker)\"}") }
            let count = line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
            #expect(count >= 2, "worker \(worker) processed \(count) requests; load did not spread:\n\(metrics)")
        }
    }

    @Test func killingAWorkerUnderLoadLosesNoRequest() throws {
        let cluster = try LocalCluster(workerCount: 2)
        let results = ConcurrentResults()
        let group = DispatchGroup()
        for index in 0..<8 {
            DispatchQueue.global().async(group: group) {
                let prompt = (0..<24).map { 100 + index * 30 + $0 }
                results.record(Result {
                    try cluster.client.streamCompletion(CompletionRequest(
                        model: nil, prompt: .tokenIDs(prompt), sampling: SamplingFields(maxTokens: 48, temperature: 0, ignoreEOS: true),
                        returnTokenIDs: true)).completion
                })
            }
        }
        usleep(400_000)
        cluster.workers[1]!.signal(SIGKILL)
        #expect(group.wait(timeout: .now() + 180) == .success, "requests hung after a worker was killed")
        #expect(results.failures.isEmpty, "\(results.failures)")
        #expect(results.completions.count == 8)
        for completion in results.completions {
            #expect(completion.tokenIDs?.count == 48 && completion.usage?.completionTokens == 48)
        }
        let workers = try cluster.client.workers()
        #expect(workers.first { $0.id == 1 }?.isRoutable == false)
        #expect(try cluster.client.isHealthy())
    }
}

/// Results gathered from several threads.
final class ConcurrentResults: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private(set) var completions: [Completion] = []
    private(set) var failures: [String] = []

    func record(_ result: Result<Completion, any Error>) {
        lock.withLock {
            switch result {
            case .success(let completion): completions.append(completion)
            case .failure(let error): failures.append("\(error)")
            }
        }
    }
}
