import Foundation
import ServingTypes

extension RouterClient {
    /// `POST /v1/completions` without streaming: waits for the whole completion.
    public func complete(_ request: CompletionRequest) throws -> Completion {
        var body = request
        body.stream = false
        return try send(path: "/v1/completions", body: encode(body), as: CompletionResponse.self)
    }

    /// `POST /v1/chat/completions` without streaming.
    public func chat(_ request: ChatCompletionRequest) throws -> Completion {
        var body = request
        body.stream = false
        return try send(path: "/v1/chat/completions", body: encode(body), as: ChatCompletionResponse.self)
    }

    /// `POST /v1/completions` with `stream: true`: calls `onText` with each text piece as it
    /// arrives, then returns the whole completion with its timing. Throws if the stream ends
    /// before `data: [DONE]`.
    public func streamCompletion(
        _ request: CompletionRequest, onText: (String) throws -> Void = { _ in }
    ) throws -> StreamedCompletion {
        var body = request
        body.stream = true
        return try stream(path: "/v1/completions", body: encode(body), as: CompletionResponse.self, onText: onText)
    }

    /// `POST /v1/chat/completions` with `stream: true`: `onText` receives each `delta.content`.
    public func streamChat(
        _ request: ChatCompletionRequest, onText: (String) throws -> Void = { _ in }
    ) throws -> StreamedCompletion {
        var body = request
        body.stream = true
        return try stream(path: "/v1/chat/completions", body: encode(body), as: ChatCompletionResponse.self, onText: onText)
    }

    private func send<Payload: CompletionPayload>(path: String, body: Data, as payload: Payload.Type) throws -> Completion {
        let request = "POST \(path)"
        let response = try http.send("POST", path, json: body).checked(request)
        if let error = try? JSONDecoder().decode(APIErrorBody.self, from: response.body) {
            throw ServingClientError.server("\(request) failed: \(error.error.message ?? "unknown error")")
        }
        return try Completion(body: decode(Payload.self, from: response, request: request), request: request)
    }

    private func stream<Payload: CompletionPayload>(
        path: String, body: Data, as payload: Payload.Type, onText: (String) throws -> Void
    ) throws -> StreamedCompletion {
        let request = "POST \(path)"
        var result = StreamedCompletion(start: .now)
        var isDone = false
        try http.streamEvents("POST", path, json: body) { event in
            guard let text = try result.consume(event, as: Payload.self, request: request) else {
                isDone = true
                return false
            }
            if !text.isEmpty { try onText(text) }
            return true
        }
        guard isDone else {
            throw ServingClientError.connectionClosed(
                "the stream of \(request) from \(url) ended before data: [DONE]")
        }
        return result
    }
}
