import Foundation
import Synchronization
import TestSupport

/// A scripted `/v1/completions` server with a real (if tiny) prefix cache: each request's
/// `cached_tokens` is its longest common prefix with any earlier prompt + output, and its output
/// is `max_tokens` ids derived from the prompt, streamed one token per event. `POST /flush_cache`
/// empties the cache.
final class FakeCompletionServer: Sendable {
    struct Options: Sendable {
        /// Send `token_ids` on each choice when the request asks for `return_token_ids`.
        var returnsTokenIDs = true
        /// Before the first token, and between tokens.
        var firstTokenDelay: Duration = .zero
        var tokenDelay: Duration = .zero
        /// Answer request number n (1-based, in arrival order) with HTTP 500 when this says so.
        var fails: @Sendable (Int) -> Bool = { _ in false }
    }

    let server: ScriptedHTTPServer
    private let responder: Responder

    init(options: Options = Options()) throws {
        let responder = Responder(options: options)
        self.responder = responder
        server = try ScriptedHTTPServer { responder.answer($0) }
    }

    func stop() { server.stop() }

    /// `cached_tokens` of every answered request, in answer order.
    var cachedTokens: [Int] { responder.state.withLock { $0.cachedTokens } }

    /// The output ids the server generates for `prompt`.
    static func output(for prompt: [Int], count: Int) -> [Int] {
        (0..<count).map { 100 + Int((prompt.reduce(0, &+) &+ $0 * 31).magnitude % 900) }
    }
}

private final class Responder: Sendable {
    struct State {
        var sequences: [[Int]] = []
        var cachedTokens: [Int] = []
        var requestCount = 0
    }

    let state = Mutex(State())
    let options: FakeCompletionServer.Options

    init(options: FakeCompletionServer.Options) {
        self.options = options
    }

    func answer(_ request: ScriptedHTTPServer.Request) -> [ScriptedHTTPServer.Step] {
        if request.path == "/flush_cache" {
            state.withLock { $0.sequences.removeAll() }
            return [.send(ScriptedHTTPServer.response(body: "{}"))]
        }
        let number = state.withLock { state in
            state.requestCount += 1
            return state.requestCount
        }
        if options.fails(number) {
            return [.send(ScriptedHTTPServer.errorResponse(
                status: 500, reason: "Internal Server Error", message: "worker lost", type: "server_error"))]
        }
        guard let json = request.jsonObject, let prompt = json["prompt"] as? [Int], let maxTokens = json["max_tokens"] as? Int
        else {
            return [.send(ScriptedHTTPServer.errorResponse(
                status: 400, reason: "Bad Request", message: "expected token ids", type: "invalid_request_error"))]
        }
        let wantsIDs = options.returnsTokenIDs && (json["return_token_ids"] as? Bool ?? false)
        let output = FakeCompletionServer.output(for: prompt, count: maxTokens)
        let cached = state.withLock { state in
            let cached = state.sequences.map { zip($0, prompt).prefix { $0 == $1 }.count }.max() ?? 0
            state.sequences.append(prompt + output)
            state.cachedTokens.append(cached)
            return cached
        }
        var steps: [ScriptedHTTPServer.Step] = [.send(ScriptedHTTPServer.eventStreamHead()), .pause(options.firstTokenDelay)]
        for (index, id) in output.enumerated() {
            if index > 0 { steps.append(.pause(options.tokenDelay)) }
            let ids = wantsIDs ? #","token_ids":[\#(id)]"# : ""
            let finish = index == output.count - 1 ? #""length""# : "null"
            let chunk = #"{"id":"cmpl-1","object":"text_completion","choices":[{"index":0,"text":"t\#(id) ","finish_reason":\#(finish)\#(ids)}]}"#
            steps.append(.send(ScriptedHTTPServer.chunk(Array("data: \(chunk)\n\n".utf8))))
        }
        let usage = #"{"id":"cmpl-1","choices":[],"usage":{"prompt_tokens":\#(prompt.count),"completion_tokens":\#(output.count),"total_tokens":\#(prompt.count + output.count),"prompt_tokens_details":{"cached_tokens":\#(cached)}}}"#
        steps.append(.send(ScriptedHTTPServer.chunk(Array("data: \(usage)\n\ndata: [DONE]\n\n".utf8)) + ScriptedHTTPServer.lastChunk))
        return steps
    }
}
