import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The blocking bridge of ``ServingHTTPClient``: hands one response from AsyncHTTPClient's event
/// loop to the thread that waits for it.
///
/// The delegate callbacks run on the event loop and only queue what arrived; body parts are
/// stamped with their arrival time there, so latency figures do not include the reader's
/// scheduling. ``next()`` blocks the calling thread (never a Swift concurrency thread's executor
/// job) until the next part. Parts are accepted as they come, without backpressure: the router's
/// responses are small and its streams are read as they arrive.
final class ResponseHandOff: HTTPClientResponseDelegate {
    typealias Response = Void

    /// What arrived, in order; a response ends with one `end` or `failure`.
    enum Part: Sendable {
        case head(HTTPResponseHead)
        case body(ByteBuffer, arrival: ContinuousClock.Instant)
        case end
        case failure(any Error)
    }

    private let parts = Mutex<[Part]>([])
    private let available = DispatchSemaphore(value: 0)

    /// Starts `request` on `client` with a new hand-off; `task` cancels it.
    static func start(
        _ request: HTTPClient.Request, on client: HTTPClient
    ) -> (handOff: ResponseHandOff, task: HTTPClient.Task<Void>) {
        let handOff = ResponseHandOff()
        let task = client.execute(request: request, delegate: handOff)
        task.futureResult.whenComplete { result in
            switch result {
            case .success: handOff.deliver(.end)
            case .failure(let error): handOff.deliver(.failure(error))
            }
        }
        return (handOff, task)
    }

    /// The next part, waiting for it.
    func next() -> Part {
        available.wait()
        return parts.withLock { $0.removeFirst() }
    }

    private func deliver(_ part: Part) {
        parts.withLock { $0.append(part) }
        available.signal()
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        deliver(.head(head))
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        deliver(.body(buffer, arrival: .now))
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {}
}
