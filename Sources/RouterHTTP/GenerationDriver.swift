// RadixServe: one request from router dispatch to client text.

import HTTPTypes
import RouterService
import ServingTypes
import WireProtocol

/// A piece of output ready for the client.
package struct OutputPiece: Sendable {
    /// Text that became final (may be empty while a character or a stop string is pending).
    package var text: String
    /// The tokens that produced it.
    package var tokenIDs: [Int32]
    /// Their log-probabilities, when asked for.
    package var logprobs: [TokenLogprobs]
}

/// How a request ended, as the client sees it.
package struct GenerationOutcome: Sendable {
    /// OpenAI `finish_reason`: `stop`, `length` or `abort`.
    package var finishReason: String
    /// The stop string or token that ended it, if any.
    package var matchedStop: MatchedStop?
    package var usage: Usage
    package var text: String
    package var tokenIDs: [Int32]
    package var logprobs: [TokenLogprobs]

    package enum MatchedStop: Sendable {
        case string(String)
        case token(Int32)
    }
}

/// Submits requests to the coordinator and turns their token stream into text, honouring
/// stop strings (the worker is told to stop as soon as one matches).
package struct GenerationDriver: Sendable {
    package let coordinator: RouterCoordinator
    package let model: ServedModel

    package init(coordinator: RouterCoordinator, model: ServedModel) {
        self.coordinator = coordinator
        self.model = model
    }

    /// Reads the request's updates to the end, calling `onPiece` for each piece of output.
    /// If `onPiece` throws (the client went away), the request is aborted and the error rethrown.
    /// - Throws: ``APIError`` when the request failed, or what `onPiece` threw.
    package func run(
        _ handle: RoutedRequestHandle, stopStrings: [String], onPiece: (OutputPiece) async throws -> Void = { _ in }
    ) async throws -> GenerationOutcome {
        var stream = OutputTextStream(tokenizer: model.tokenizer, stopStrings: stopStrings)
        var logprobs: [TokenLogprobs] = []
        var finish: RoutedFinish?
        do {
            for try await update in handle.updates {
                switch update {
                case .tokens(let ids, let tokenLogprobs):
                    guard stream.matchedStop == nil else { continue }
                    let before = stream.tokenIDs.count
                    let text = stream.append(ids)
                    let used = stream.tokenIDs.count - before
                    let piece = OutputPiece(
                        text: text, tokenIDs: Array(ids.prefix(used)),
                        logprobs: tokenLogprobs.isEmpty ? [] : Array(tokenLogprobs.prefix(used)))
                    logprobs += piece.logprobs
                    if stream.matchedStop != nil { coordinator.stopGenerating(handle.id) }
                    if !piece.text.isEmpty || !piece.tokenIDs.isEmpty { try await onPiece(piece) }
                case .finished(let value):
                    finish = value
                }
            }
        } catch let error as RoutedRequestError {
            throw Self.apiError(error)
        } catch {
            coordinator.cancel(handle.id)
            throw error
        }
        guard let finish else {
            // The stream ended without a finish: the request was cancelled.
            coordinator.cancel(handle.id)
            throw CancellationError()
        }
        if case .error(let message) = finish.reason { throw APIError.invalid(message) }
        let tail = stream.finish()
        if !tail.isEmpty { try await onPiece(OutputPiece(text: tail, tokenIDs: [], logprobs: [])) }
        let reason: String
        var matched: GenerationOutcome.MatchedStop?
        if let stop = stream.matchedStop {
            reason = "stop"
            matched = .string(stop)
        } else {
            switch finish.reason {
            case .stop(let tokenID):
                reason = "stop"
                matched = .token(tokenID)
            case .length: reason = "length"
            case .abort, .error: reason = "abort"
            }
        }
        let completion = stream.matchedStop == nil ? finish.completionTokens : stream.tokenIDs.count
        return GenerationOutcome(
            finishReason: reason, matchedStop: matched,
            usage: Usage(prompt: finish.promptTokens, completion: completion, cached: finish.cachedTokens),
            text: stream.text, tokenIDs: stream.tokenIDs, logprobs: logprobs)
    }

    static func apiError(_ error: RoutedRequestError) -> APIError {
        switch error {
        case .noWorkers: APIError(.serviceUnavailable, error.description, code: "no_workers")
        case .overloaded: APIError(.tooManyRequests, error.description, code: "overloaded", retryAfterSeconds: 1)
        case .shuttingDown: APIError(.serviceUnavailable, error.description, code: "shutting_down")
        case .failed(let message): APIError(.internalServerError, message, code: "worker_failure")
        }
    }
}
