import Foundation
import ServingTypes

/// A completion received as a Server-Sent Event stream, with when each piece arrived.
///
/// Times are client-side: ``start`` is taken before connecting, so they include connection set-up,
/// queueing and prefill on the server, as a user would see them.
public struct StreamedCompletion: Sendable {
    /// The accumulated text, finish reason, token ids and usage.
    public var completion: Completion
    /// Before the connection was opened.
    public var start: ContinuousClock.Instant
    /// Arrival of each chunk that carried output: text, or a token held back (empty text, no
    /// finish reason) while the server waits for the rest of a UTF-8 character.
    public var outputArrivals: [ContinuousClock.Instant] = []
    /// When `[DONE]` arrived.
    public var end: ContinuousClock.Instant

    /// Time to first token: from ``start`` to the first output chunk.
    public var timeToFirstToken: Duration? { outputArrivals.first.map { $0 - start } }

    /// Gaps between consecutive output chunks (one per token when the server streams every token).
    public var interTokenLatencies: [Duration] { zip(outputArrivals, outputArrivals.dropFirst()).map { $1 - $0 } }

    /// End-to-end latency: from ``start`` to `[DONE]`.
    public var latency: Duration { end - start }

    init(start: ContinuousClock.Instant) {
        completion = Completion()
        self.start = start
        end = start
    }

    /// Folds one event of the stream in, decoding it as `Payload`; returns the text it added, or
    /// nil for `[DONE]`. Throws ``ServingClientError/Code/server`` for an in-stream error object.
    mutating func consume<Payload: CompletionPayload>(
        _ event: ServerSentEvent, as payload: Payload.Type, request: String
    ) throws -> String? {
        if event.isDone {
            end = event.arrival
            return nil
        }
        let data = Data(event.data.utf8)
        if let error = try? JSONDecoder().decode(APIErrorBody.self, from: data) {
            throw ServingClientError.server("\(request) failed mid-stream: \(error.error.message ?? "unknown error")")
        }
        let body: Payload
        do {
            body = try JSONDecoder().decode(Payload.self, from: data)
        } catch {
            throw ServingClientError.malformedResponse(
                "the stream of \(request) sent an event that is not a completion chunk: \(event.data.prefix(200))")
        }
        completion.id = completion.id ?? body.id
        completion.model = completion.model ?? body.model
        if let usage = body.usage { completion.usage = usage }
        guard let choice = body.firstChoice else { return "" }
        completion.text += choice.text
        if let ids = choice.tokenIDs { completion.tokenIDs = (completion.tokenIDs ?? []) + ids }
        if let reason = choice.finishReason { completion.finishReason = reason }
        if !choice.isRoleOnly && (!choice.text.isEmpty || choice.finishReason == nil) { outputArrivals.append(event.arrival) }
        return choice.text
    }
}
