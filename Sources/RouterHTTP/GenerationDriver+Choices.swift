// RadixServe: a request's `n` samples, dispatched together and streamed as they come.

import RouterService
import ServingTypes

/// What one of a request's samples produced next.
private enum ChoiceEvent: Sendable {
    case piece(Int, OutputPiece)
    case finished(Int, GenerationOutcome)
    case failed(any Error)
}

extension GenerationDriver {
    /// Passes `admission` for `choices` samples of one prompt (the prompt counted once, each
    /// sample's `max_tokens`), then dispatches them together (``RouterCoordinator/submit(_:)-([RoutedRequest])``):
    /// sample `i` gets ``SamplingParams/forChoice(_:)``. They go to one worker where they can, which
    /// computes the prompt once and serves the other samples from its cache.
    /// - Throws: ``APIError`` 429/400 from admission, 503 with no worker, 429 when the router is full.
    package func start(
        _ tokens: [Int32], _ params: SamplingParams, choices: Int, admission: AdmissionGate, key: String?, priority: Int?
    ) async throws -> ([RoutedRequestHandle], AdmissionPass) {
        let pass = try await admission.admit(
            key: key, cost: tokens.count + choices * params.maxTokens, priority: priority ?? 0)
        let requests = (0..<choices).map { RoutedRequest(tokenIDs: tokens, params: params.forChoice($0)) }
        do throws(RoutedRequestError) {
            return (try coordinator.submit(requests), pass)
        } catch {
            pass.release()
            throw Self.apiError(error)
        }
    }

    /// Runs every sample at once. `onPiece` gets each piece of output with its sample's index and
    /// `onFinish` each sample's outcome as it ends, one call at a time in the order they arrive.
    /// Returns the outcomes by index, and releases `pass` when all have ended, however they end.
    /// The first failure (or a throw from `onPiece` or `onFinish`) aborts the other samples and
    /// is rethrown.
    package func run(
        _ handles: [RoutedRequestHandle], pass: AdmissionPass, stopStrings: [String],
        onPiece: (Int, OutputPiece) async throws -> Void = { _, _ in },
        onFinish: (Int, GenerationOutcome) async throws -> Void = { _, _ in }
    ) async throws -> [GenerationOutcome] {
        defer { pass.release() }
        let (events, continuation) = AsyncStream<ChoiceEvent>.makeStream()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, handle) in handles.enumerated() {
                group.addTask {
                    do {
                        let outcome = try await run(handle, stopStrings: stopStrings) { piece in
                            continuation.yield(.piece(index, piece))
                        }
                        continuation.yield(.finished(index, outcome))
                    } catch {
                        continuation.yield(.failed(error))
                    }
                }
            }
            var outcomes = [GenerationOutcome?](repeating: nil, count: handles.count)
            var remaining = handles.count
            for await event in events {
                switch event {
                case .piece(let index, let piece):
                    try await onPiece(index, piece)
                case .finished(let index, let outcome):
                    outcomes[index] = outcome
                    try await onFinish(index, outcome)
                    remaining -= 1
                case .failed(let error):
                    group.cancelAll()
                    throw error
                }
                if remaining == 0 { break }
            }
            try Task.checkCancellation()
            return outcomes.map { $0! }
        }
    }
}

extension GenerationOutcome {
    /// The usage of a request whose samples ended with `outcomes`: the prompt once, the completion
    /// tokens of every sample, and as cached tokens the most any sample was served from the cache
    /// (with a fresh prompt, what the other samples reused of the one prefill).
    package static func usage(of outcomes: [GenerationOutcome]) -> Usage {
        Usage(
            promptTokens: outcomes[0].usage.promptTokens,
            completionTokens: outcomes.reduce(0) { $0 + $1.usage.completionTokens },
            cachedTokens: outcomes.map { $0.usage.cachedTokens ?? 0 }.max())
    }
}
