// RadixServe: the engine loop on its own OS thread.

import Foundation
import Models
import Scheduling
import Synchronization

/// Continuous batching on a dedicated OS thread (not the cooperative pool).
///
/// Other threads talk to it through an inbox (``submit(_:)``, ``abort(_:)``,
/// ``flushCache(completion:)``, ``shutdown()``); it answers through `sink`, which it calls **on
/// the engine thread** with every ``EngineEvent`` (keep the sink short: it delays the next
/// step), except for requests started with ``generate(promptTokenIDs:params:id:)``, whose events go
/// to their stream. Each step reads:
/// ```
/// drain inbox → schedule → prepare → forward → sample → postprocess → emit events
/// ```
/// Every accepted request gets exactly one `.finished` event: on shutdown, live requests finish
/// with an error reason.
///
/// Thread-safe: the scheduler, cache and runner are confined to the engine thread; the inbox,
/// the load snapshot and the stream table are behind locks.
public final class EngineLoop: @unchecked Sendable {
    /// The pool size and limits the engine runs with.
    public let schedulerConfig: SchedulerConfig
    let inbox = EngineInbox()
    let outbox: EngineOutbox
    let nextRequestID = Atomic<UInt64>(1 << 62)
    private let thread = Mutex<pthread_t?>(nil)

    /// Takes ownership of `model` (the caller must not use it afterwards), allocates the KV pool
    /// from `config.kvMemory`, and starts the engine thread.
    public init(
        model: sending any ForwardModel, config: EngineConfig = .init(), sink: @escaping @Sendable (EngineEvent) -> Void = { _ in }
    ) throws {
        let outbox = EngineOutbox(sink: sink)
        let core = try EngineCore(model: model, config: config, emit: outbox.route)
        self.outbox = outbox
        schedulerConfig = core.scheduler.config
        outbox.publish(core.load)
        let handOff = CoreHandOff(core: core, inbox: inbox, outbox: outbox)
        var handle = pthread_t()
        let box = Unmanaged.passRetained(handOff).toOpaque()
        let status = pthread_create(&handle, nil, { raw in
            Unmanaged<CoreHandOff>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, box)
        guard status == 0 else {
            Unmanaged<CoreHandOff>.fromOpaque(box).release()
            throw EngineError("could not start the engine thread (pthread_create returned \(status))")
        }
        thread.withLock { $0 = handle }
    }

    deinit {
        shutdown()
    }

    /// Queues a request. Its events go to the sink.
    /// - Throws: ``EngineError`` once the engine is shutting down (no event is emitted then).
    public func submit(_ request: EngineRequest) throws {
        guard inbox.post(.add(request)) else { throw EngineError("the engine is shut down") }
    }

    /// Aborts a request in any state; it finishes with `.abort`. Unknown ids are ignored.
    public func abort(_ id: RequestID) {
        _ = inbox.post(.abort(id))
    }

    /// Drops the prefix cache between steps; `completion` (called on the engine thread)
    /// receives false when running requests hold cached pages, or when the engine is shut down.
    public func flushCache(completion: @escaping @Sendable (Bool) -> Void = { _ in }) {
        if !inbox.post(.flushCache(completion: completion)) { completion(false) }
    }

    /// The load published after the latest step. Any thread.
    public var load: EngineLoad { outbox.load }

    /// Finishes every live request with an error event, stops the engine thread and waits for
    /// it. Commands posted before this call are handled first. Idempotent; from the engine
    /// thread (inside the sink) it stops the loop without waiting.
    public func shutdown() {
        _ = inbox.close(with: .shutdown)
        let isEngineThread = thread.withLock { $0.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
        guard !isEngineThread else { return }
        let handle = thread.withLock { current in
            defer { current = nil }
            return current
        }
        if let handle { pthread_join(handle, nil) }
    }
}

/// Where events and load snapshots go: per-request streams first, then the sink.
///
/// Thread-safe: the stream table and the snapshot are behind mutexes; the sink is `@Sendable`.
final class EngineOutbox: Sendable {
    typealias Continuation = AsyncThrowingStream<EngineEvent, any Error>.Continuation

    let streams = Mutex<[RequestID: Continuation]>([:])
    private let published = Mutex(EngineLoad())
    private let sink: @Sendable (EngineEvent) -> Void

    init(sink: @escaping @Sendable (EngineEvent) -> Void) {
        self.sink = sink
    }

    var load: EngineLoad { published.withLock { $0 } }

    func publish(_ load: EngineLoad) {
        published.withLock { $0 = load }
    }

    /// Sends an event to its request's stream (finishing the stream after `.finished`), or to the sink.
    func route(_ event: EngineEvent) {
        let continuation: Continuation? = streams.withLock { table in
            if case .finished = event { return table.removeValue(forKey: event.requestID) }
            return table[event.requestID]
        }
        guard let continuation else { return sink(event) }
        continuation.yield(event)
        if case .finished = event { continuation.finish() }
    }
}

/// Carries the engine core onto the engine thread and runs the loop there.
///
/// `@unchecked Sendable`: built on the creating thread before `pthread_create` (which orders
/// those writes before the new thread starts), then touched only by the engine thread.
private final class CoreHandOff: @unchecked Sendable {
    private let core: EngineCore
    private let inbox: EngineInbox
    private let outbox: EngineOutbox

    init(core: EngineCore, inbox: EngineInbox, outbox: EngineOutbox) {
        self.core = core
        self.inbox = inbox
        self.outbox = outbox
    }

    func run() {
        var isRunning = true
        while isRunning {
            for command in inbox.drain(waitingIfEmpty: core.scheduler.isIdle) where isRunning {
                isRunning = core.handle(command)
            }
            if isRunning { _ = core.step() }
            outbox.publish(core.load)
        }
        core.failAll(message: "the engine shut down before the request finished")
        for command in inbox.drain(waitingIfEmpty: false) {
            if case .flushCache(let completion) = command { completion(false) }
        }
        outbox.publish(core.load)
    }
}
