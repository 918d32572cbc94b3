import Foundation
import ServingClient
import TestSupport

/// A scripted router for the client's command-line logic: `/v1/models` lists `demo`, and each
/// completion or chat generates `max_tokens` pieces `w0 w1 …` (a chat's first piece counts the
/// messages it was sent, `[n] `), streamed or whole as asked. A message or prompt `fail` is
/// refused with HTTP 500; `break` streams one piece, then an error event.
enum ScriptedRouter {
    static func start() throws -> ScriptedHTTPServer {
        try ScriptedHTTPServer { request in
            if request.path == "/v1/models" {
                return [.send(ScriptedHTTPServer.response(body: #"{"object":"list","data":[{"id":"demo"}]}"#))]
            }
            let json = request.jsonObject ?? [:]
            let isChat = request.path == "/v1/chat/completions"
            let messages = json["messages"] as? [[String: Any]] ?? []
            let input = isChat ? messages.last?["content"] as? String : json["prompt"] as? String
            if input == "fail" {
                return [.send(ScriptedHTTPServer.errorResponse(
                    status: 500, reason: "Internal Server Error", message: "worker lost", type: "server_error"))]
            }
            let count = json["max_tokens"] as? Int ?? 1
            let pieces = (0..<count).map { isChat && $0 == 0 ? "[\(messages.count)] " : "w\($0) " }
            let usage = #"{"prompt_tokens":1,"completion_tokens":\#(count),"total_tokens":\#(count + 1),"prompt_tokens_details":{"cached_tokens":0}}"#
            guard json["stream"] as? Bool == true else {
                let choice = isChat
                    ? #"{"index":0,"message":{"role":"assistant","content":"\#(pieces.joined())"},"finish_reason":"length"}"#
                    : #"{"index":0,"text":"\#(pieces.joined())","finish_reason":"length"}"#
                let object = isChat ? "chat.completion" : "text_completion"
                return [.send(ScriptedHTTPServer.response(
                    body: #"{"id":"x","object":"\#(object)","created":1,"model":"demo","choices":[\#(choice)],"usage":\#(usage)}"#))]
            }
            var events = pieces.enumerated().map { index, piece in
                let field = isChat ? #""delta":{"content":"\#(piece)"}"# : #""text":"\#(piece)""#
                return #"{"model":"demo","choices":[{"index":0,\#(field),"finish_reason":\#(index == count - 1 ? #""length""# : "null")}]}"#
            }
            if input == "break" { events = [events[0], #"{"error":{"message":"worker lost","type":"server_error"}}"#] }
            events.append(#"{"choices":[],"usage":\#(usage)}"#)
            let body = ScriptedHTTPServer.events(events)
            return [.send(ScriptedHTTPServer.eventStreamHead()), .send(ScriptedHTTPServer.chunk(body)), .send(ScriptedHTTPServer.lastChunk)]
        }
    }

    static func client(_ server: ScriptedHTTPServer) throws -> RouterClient {
        RouterClient(url: try ServingURL(server.url), connectTimeout: .seconds(5), readTimeout: .seconds(10))
    }
}

/// Collects what a generation writes (on the test's thread).
final class Written {
    private(set) var text = ""

    func write(_ piece: String) { text += piece }
}
