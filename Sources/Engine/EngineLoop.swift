// RadixServe: the engine loop on its own OS thread.

import Foundation
import KVPaging
import Models
import ProcessLifecycle
import Scheduling
import ServingTypes
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
/// With ``EngineConfig/isPublishingKVEvents``, the prefix-cache changes of each loop iteration
/// (commands, then one step) go to `cacheEventSink` as one list, on the engine thread, after that
/// iteration's events went to `sink`. While idle the loop wakes every
/// ``ForwardModel/keepAliveInterval`` to call ``ForwardModel/keepAlive()``; when it stops it
/// calls ``ForwardModel/shutdown(reason:)`` (a tensor-parallel leader then releases its ranks).
///
/// Thread-safe: the scheduler, cache and runner are confined to the engine thread; the inbox,
/// the load snapshot and the stream table are behind locks.
public final class EngineLoop: @unchecked Sendable {
    /// The pool size and limits the engine runs with.
    public let schedulerConfig: SchedulerConfig
    /// Whether the engine runs in deterministic mode (``EngineConfig/isDeterministic``).
    public let isDeterministic: Bool
    let inbox = EngineInbox()
    let outbox: EngineOutbox
    let nextRequestID = Atomic<UInt64>(1 << 62)
    private let thread = Mutex<pthread_t?>(nil)

    /// Takes ownership of `model` (the caller must not use it afterwards), allocates the KV pool
    /// from `config.kvMemory`, and starts the engine thread. If this throws, the model has
    /// already been shut down.
    ///
    /// - Parameters:
    ///   - cacheEventSink: receives each iteration's non-empty list of cache changes when
    ///     `config.isPublishingKVEvents` is set (they are dropped when it is `nil`); called on the
    ///     engine thread, so keep it short.
    ///   - changes: notified after every iteration, once ``load`` and ``modelFailure`` are
    ///     published, so owners can wait for the engine to go idle or fail without polling.
    public init(
        model: sending any ForwardModel, config: EngineConfig = .init(), sink: @escaping @Sendable (EngineEvent) -> Void = { _ in },
        cacheEventSink: (@Sendable ([CacheEvent]) -> Void)? = nil, changes: ChangeSignal = ChangeSignal()
    ) throws {
        let outbox = EngineOutbox(sink: sink, changes: changes)
        let core: EngineCore
        do {
            core = try EngineCore(model: model, config: config, emit: outbox.route, cacheEventSink: cacheEventSink)
        } catch {
            model.shutdown(reason: "the engine could not start: \(error)")
            throw error
        }
        self.outbox = outbox
        schedulerConfig = core.scheduler.config
        isDeterministic = config.isDeterministic
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

    /// Drops the prefix cache between steps (all but the prefixes running requests hold);
    /// `completion` (called on the engine thread) receives true when the cache is now empty,
    /// false when held prefixes stayed or the engine is shut down.
    public func flushCache(completion: @escaping @Sendable (Bool) -> Void = { _ in }) {
        if !inbox.post(.flushCache(completion: completion)) { completion(false) }
    }

    /// ``flushCache(completion:)``, waiting on the calling thread (not the engine's) for its
    /// answer: true when the cache is now empty.
    @discardableResult
    public func flushCacheAndWait() -> Bool {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex(false)
        flushCache { isFlushed in
            result.withLock { $0 = isFlushed }
            done.signal()
        }
        done.wait()
        return result.withLock { $0 }
    }

    /// Lists the prefix cache between steps. On the engine thread, first hands every pending cache
    /// change to the cache-event sink, then calls `completion` with the chains (parents first; see
    /// ``KVPaging/RadixPrefixCache/cachedChains()``), so a consumer fed by both in call order sees
    /// all earlier events before the listing that includes them. `completion` receives `nil` when
    /// the engine is shut down.
    public func snapshotCache(completion: @escaping @Sendable ([CachedChain]?) -> Void) {
        if !inbox.post(.snapshotCache(completion: completion)) { completion(nil) }
    }

    /// The load published after the latest step. Any thread.
    public var load: EngineLoad { outbox.load }

    /// Why the model can no longer run (e.g. a tensor-parallel rank was lost), or `nil`. Once set,
    /// every request fails; owners should shut the engine down. Any thread.
    public var modelFailure: String? { outbox.modelFailure }

    /// Notified after every iteration of the loop (see ``init(model:config:sink:cacheEventSink:changes:)``).
    public var changes: ChangeSignal { outbox.changes }

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
    private let failure = Mutex<String?>(nil)
    private let sink: @Sendable (EngineEvent) -> Void
    let changes: ChangeSignal

    init(sink: @escaping @Sendable (EngineEvent) -> Void, changes: ChangeSignal) {
        self.sink = sink
        self.changes = changes
    }

    var load: EngineLoad { published.withLock { $0 } }

    func publish(_ load: EngineLoad) {
        published.withLock { $0 = load }
    }

    var modelFailure: String? { failure.withLock { $0 } }

    func publish(modelFailure: String?) {
        guard let modelFailure else { return }
        failure.withLock { $0 = $0 ?? modelFailure }
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
        let keepAliveInterval = core.runner.model.keepAliveInterval
        var isRunning = true
        var commands: [EngineCommand] = []
        while isRunning {
            inbox.drain(into: &commands, waitingIfEmpty: core.scheduler.isIdle, timeout: keepAliveInterval)
            for command in commands where isRunning {
                isRunning = core.handle(command)
            }
            commands.removeAll(keepingCapacity: true)
            if isRunning && !core.step() { core.keepModelAlive() }
            core.publishCacheEvents()
            outbox.publish(core.load)
            outbox.publish(modelFailure: core.modelFailure)
            outbox.changes.notify()
        }
        core.failAll(message: "the engine shut down before the request finished")
        core.publishCacheEvents()
        for command in inbox.drain(waitingIfEmpty: false) {
            switch command {
            case .flushCache(let completion): completion(false)
            case .snapshotCache(let completion): completion(nil)
            case .add, .abort, .shutdown: break
            }
        }
        core.runner.model.shutdown(reason: "the engine shut down")
        outbox.publish(core.load)
        outbox.changes.notify()
    }
}
