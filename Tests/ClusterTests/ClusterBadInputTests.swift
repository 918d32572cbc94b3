import Foundation
import ServingClient
import ServingTypes
import Testing
import TestSupport
import Transport

/// Bad input at every door of a running cluster gets a clear error, and the cluster keeps serving.
@Suite(.serialized) struct ClusterBadInputTests {
    struct ErrorBody: Decodable {
        struct Detail: Decodable {
            var message: String
            var type: String
            var param: String?
            var code: String?
        }
        var error: Detail
    }

    func post(_ cluster: LocalCluster, _ path: String, _ body: String) throws -> (Int, ErrorBody?) {
        let response = try cluster.client.http.send("POST", path, json: Data(body.utf8))
        return (response.status, try? JSONDecoder().decode(ErrorBody.self, from: response.body))
    }

    @Test func badRequestsGetOpenAIStyleErrorsAndServiceContinues() throws {
        let cluster = try LocalCluster(workerCount: 1)
        let cases: [(path: String, body: String, status: Int, mentions: String, param: String?)] = [
            ("/v1/completions", #"{"prompt": "hi", "max_tokens": "#, 400, "not valid JSON", nil),
            ("/v1/completions", #"{"model": "gpt-9", "prompt": "hi"}"#, 404, "gpt-9", "model"),
            ("/v1/completions", #"{"prompt": "hi", "max_tokens": -3}"#, 400, "max_tokens", "max_tokens"),
            ("/v1/completions", #"{"prompt": "hi", "temperature": 1000}"#, 400, "temperature", "temperature"),
            ("/v1/completions", #"{"prompt": "hi", "top_p": 0}"#, 400, "top_p", "top_p"),
            ("/v1/completions", #"{"prompt": "hi", "temperature": "hot"}"#, 400, "temperature", "temperature"),
            ("/v1/completions", #"{"max_tokens": 4}"#, 400, "prompt", "prompt"),
            ("/v1/completions", #"{"prompt": [5, 99999999]}"#, 400, "outside the vocabulary", "prompt"),
            ("/v1/completions", #"{"prompt": "hi", "max_tokens": 5000}"#, 400, "maximum context length", "max_tokens"),
            ("/v1/completions", #"{"prompt": "\#(String(repeating: "word ", count: 3000))"}"#, 400, "maximum context length", "prompt"),
            ("/v1/chat/completions", #"{"messages": []}"#, 400, "messages", "messages"),
            ("/v1/chat/completions", #"{"messages": [{"role": "user"}]}"#, 400, "content", "messages[0].content"),
            ("/v1/completions", #"{"prompt": "hi", "n": 30}"#, 400, "n must be between 1 and 16", "n"),
            ("/generate", #"{"sampling_params": {"max_new_tokens": 2}}"#, 400, "text", "text"),
        ]
        for item in cases {
            let (status, body) = try post(cluster, item.path, item.body)
            #expect(status == item.status, "\(item.body.prefix(80)) → \(status)")
            #expect(body?.error.message.contains(item.mentions) == true, "\(item.body.prefix(80)) → \(String(describing: body))")
            if let param = item.param { #expect(body?.error.param == param, "\(item.body.prefix(80))") }
        }
        let response = try cluster.client.http.send("GET", "/no/such/path")
        #expect(response.status == 404)

        // Garbage on the worker socket: dropped and logged by the router.
        let context = try ZMQContext()
        let intruder = try ZMQSocket(.dealer, context: context)
        defer { intruder.close() }
        intruder.setLingerOnClose(.zero)
        _ = try intruder.connect(cluster.workerEndpoint)
        for frame in [[UInt8](repeating: 0xff, count: 3), Array("RXSW garbage frame".utf8), [UInt8](repeating: 0, count: 4096)] {
            try intruder.send(frame, timeout: .seconds(1))
        }
        try intruder.send([[1, 2, 3, 4], [0x52, 0x58]], timeout: .seconds(1))
        usleep(200_000)
        #expect(cluster.router.process.isRunning)
        #expect(cluster.router.standardError.contains("dropped"))

        let completion = try cluster.client.complete(CompletionRequest(
            model: nil, prompt: .text("Once upon a time"), sampling: SamplingFields(maxTokens: 4, temperature: 0)))
        #expect(completion.usage?.completionTokens ?? 0 >= 1)
        let allRunning = cluster.workers.values.allSatisfy { $0.process.isRunning }
        #expect(allRunning)
    }

    @Test func workersWithAnotherModelAreRefusedWithTheReason() throws {
        let cluster = try LocalCluster(workerCount: 1)
        let stranger = try ChildProcess([
            "worker", "--router", cluster.workerEndpoint, "--model", Fixtures.model("llama-gqa").path, "--worker-id", "9",
            "--page-size", "16", "--threads", "1", "--kv-memory", "16M",
        ])
        let status = stranger.finish(timeout: 60)
        #expect(status != nil && status != 0)
        #expect(stranger.standardError.contains("fingerprint"), "\(stranger.standardError)")
        let ids = try cluster.client.workers().map(\.id)
        #expect(ids == [1])
    }

    @Test func theOfficialOpenAIClientDrivesChatAndCompletions() throws {
        guard try Python.requireModule("openai", package: "openai") else { return }
        let cluster = try LocalCluster(workerCount: 2)
        let script = Fixtures.demoModel.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/openai_client_check.py")
        let run = try Python.run([script.path, cluster.url])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("\"errors\""), "\(run.output)")
    }
}
