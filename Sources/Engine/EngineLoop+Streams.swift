// RadixServe: async-sequence convenience over the engine loop.

import Scheduling
import ServingTypes
import Synchronization

extension EngineLoop {
    /// Starts a request and returns its events as an async sequence: `.token` events, then
    /// one `.finished` event, after which the sequence ends. Errors of the request (invalid
    /// parameters, oversize prompt, shutdown) arrive as a `.finished` event with an `.error`
    /// reason; the sequence throws only when the engine no longer accepts requests.
    /// Cancelling the consuming task (or dropping the sequence) aborts the request.
    ///
    /// - Parameter id: the request id, or `nil` to take a fresh one from a private range
    ///   (`2⁶² …`) that callers choosing their own ids should avoid.
    public func generate(
        promptTokenIDs: [Int32], params: SamplingParams, id: RequestID? = nil
    ) -> AsyncThrowingStream<EngineEvent, any Error> {
        let id = id ?? RequestID(nextRequestID.wrappingAdd(1, ordering: .relaxed).oldValue)
        let (stream, continuation) = AsyncThrowingStream<EngineEvent, any Error>.makeStream()
        outbox.streams.withLock { $0[id] = continuation }
        let inbox = self.inbox
        continuation.onTermination = { termination in
            if case .cancelled = termination { _ = inbox.post(.abort(id)) }
        }
        do {
            try submit(EngineRequest(id: id, promptTokenIDs: promptTokenIDs, params: params))
        } catch {
            outbox.streams.withLock { _ = $0.removeValue(forKey: id) }
            continuation.finish(throwing: error)
        }
        return stream
    }
}
