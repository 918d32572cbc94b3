// RadixServe: hands engine output from the engine thread to the worker's socket thread.

import Engine
import Foundation
import KVPaging
import ServingTypes
import Transport

/// Something the socket thread must send or do.
enum WorkerOutboxItem: Sendable {
    case engine(EngineEvent)
    case cacheEvents([CacheEvent])
    /// The engine's cache listing for a `snapshotRequest` (`nil`: the engine is shut down).
    case snapshot([CachedChain]?)
    case flushDone(isFlushed: Bool)
    /// Nothing to send: only wakes the socket thread (e.g. to notice a stop request).
    case wake
}

/// A multi-producer queue with a wakeup for the worker's socket thread.
///
/// Use ``sink`` as the `EngineLoop`'s event sink and ``cacheEventSink`` as its cache-event sink;
/// both may be called from any thread (normally the engine thread) and never block on I/O.
/// Items are sent in the order they were posted, which is what makes a snapshot's sequence
/// number exact: every cache event the engine published before listing its cache is sent first.
///
/// `@unchecked Sendable`: `items`, `waker` and `isClosed` are only touched with `lock` held.
/// The waker is an `inproc` PAIR socket created by the socket thread; it migrates between
/// threads only under `lock`, which provides the full memory barrier libzmq requires.
public final class WorkerOutbox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [WorkerOutboxItem] = []
    private var waker: ZMQSocket?
    private var isClosed = false
    private static let wakeByte: [UInt8] = [1]

    /// Creates an empty outbox.
    public init() {}

    /// The closure to pass as `EngineLoop(sink:)`.
    public var sink: @Sendable (EngineEvent) -> Void {
        { [self] event in post(.engine(event)) }
    }

    /// The closure to pass as `EngineLoop(cacheEventSink:)`: ``post(cacheEvents:)``.
    public var cacheEventSink: @Sendable ([CacheEvent]) -> Void {
        { [self] events in post(cacheEvents: events) }
    }

    /// Queues the prefix-cache changes of one engine step (`Scheduler.drainKVEvents()`); the
    /// worker sends them as one `kvEvents` batch. Empty arrays are ignored.
    public func post(cacheEvents: [CacheEvent]) {
        guard !cacheEvents.isEmpty else { return }
        post(.cacheEvents(cacheEvents))
    }

    func post(_ item: WorkerOutboxItem) {
        lock.lock()
        defer { lock.unlock() }
        guard !isClosed else { return }
        items.append(item)
        // One wake byte per empty → non-empty transition; the consumer drains everything.
        if items.count == 1, let waker { _ = try? waker.send(Self.wakeByte, timeout: .zero) }
    }

    /// Installs the sending end of the wakeup pair (socket thread, before its loop).
    func install(waker: ZMQSocket) {
        lock.lock()
        defer { lock.unlock() }
        self.waker = waker
        if !items.isEmpty { _ = try? waker.send(Self.wakeByte, timeout: .zero) }
    }

    /// Takes every queued item, oldest first.
    func drain() -> [WorkerOutboxItem] {
        lock.lock()
        defer { lock.unlock() }
        let drained = items
        items.removeAll(keepingCapacity: true)
        return drained
    }

    /// Drops the waker (closing it) and refuses further items. Called by the socket thread on exit.
    func close() {
        lock.lock()
        defer { lock.unlock() }
        isClosed = true
        items.removeAll()
        waker?.close()
        waker = nil
    }
}
