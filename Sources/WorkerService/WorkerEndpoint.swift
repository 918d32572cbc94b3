// RadixServe: one worker's connection to the router.

import Engine
import Foundation
import ProcessLifecycle
import Transport
import WireProtocol

/// Connects an ``Engine/EngineLoop`` to the router: a DEALER socket (routing id = worker id)
/// driven by one dedicated thread that registers, forwards `submit`/`abort`/`flushCache`/
/// `snapshotRequest` into the engine, and sends `tokens`, `finished`, `failed`, one `kvEvents`
/// batch per engine step that changed the cache, `snapshot`s and periodic `heartbeat`s back.
/// The socket connects to the router, or binds and waits for a router to connect
/// (``WorkerEndpointConfig/connection``).
///
/// Wiring: create a ``WorkerOutbox``, pass its ``WorkerOutbox/sink`` and
/// ``WorkerOutbox/cacheEventSink`` to an engine configured with
/// ``Engine/EngineConfig/isPublishingKVEvents`` (without it the router's index of this worker stays
/// empty), then create the endpoint with both and call ``start()``:
/// ```
/// let outbox = WorkerOutbox()
/// let engine = try EngineLoop(
///     model: model, config: config, sink: outbox.sink, cacheEventSink: outbox.cacheEventSink)
/// let endpoint = WorkerEndpoint(config: endpointConfig, engine: engine, outbox: outbox, context: context)
/// try endpoint.start()
/// ```
///
/// Thread-safe: the sockets are confined to the endpoint's thread; the registration state is
/// behind a condition lock. The endpoint does not own the engine: stop the endpoint, then shut
/// the engine down (or the reverse; both are safe).
public final class WorkerEndpoint: @unchecked Sendable {
    /// The configuration the endpoint runs with.
    public let config: WorkerEndpointConfig
    private let engine: EngineLoop
    private let outbox: WorkerOutbox
    private let context: ZMQContext
    private let condition = NSCondition()
    private var currentState = WorkerRegistrationState.pending
    private var isStopRequested = false
    /// Set by ``drain(deadline:)``: the deadline the session announces with `draining`.
    private var drainDeadline: Duration?
    /// Requests the router submitted that have not finished (the session's count).
    private var unfinishedCount = 0
    private var thread: pthread_t?

    /// Creates a stopped endpoint. `outbox` must be the one whose sink `engine` was created with.
    public init(config: WorkerEndpointConfig, engine: EngineLoop, outbox: WorkerOutbox, context: ZMQContext) {
        self.config = config
        self.engine = engine
        self.outbox = outbox
        self.context = context
    }

    /// Notified whenever ``state`` changes: the engine's signal, so one wait sees both the
    /// endpoint's state and the engine's load.
    public var changes: ChangeSignal { engine.changes }

    deinit { stop() }

    /// What the router said so far. Any thread.
    public var state: WorkerRegistrationState {
        condition.lock()
        defer { condition.unlock() }
        return currentState
    }

    /// Requests the router submitted here that have not finished yet. Any thread; ``changes`` is
    /// notified when it changes.
    /// NOTE: a drain must wait for this as well as for the engine's load: the load is published
    /// after a step, so between a request's first tokens and that step's end it still reads idle.
    public var unfinishedRequestCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return unfinishedCount
    }

    /// Blocks until the state leaves `.pending` or `timeout` passes, and returns the state.
    public func waitForRegistration(timeout: Duration) -> WorkerRegistrationState {
        let deadline = Date().addingTimeInterval(timeout.seconds)
        condition.lock()
        defer { condition.unlock() }
        while currentState == .pending, condition.wait(until: deadline) {}
        return currentState
    }

    /// Starts the socket thread, which connects and registers. Call once.
    /// - Throws: ``WorkerServiceError`` if the thread cannot be started.
    public func start() throws {
        condition.lock()
        defer { condition.unlock() }
        precondition(thread == nil && !isStopRequested, "start() called twice")
        let session = WorkerSession(
            config: config, engine: engine, outbox: outbox, context: context, endpoint: Unmanaged.passUnretained(self))
        let box = Unmanaged.passRetained(session).toOpaque()
        var handle = pthread_t()
        let status = pthread_create(&handle, nil, { raw in
            Unmanaged<WorkerSession>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, box)
        guard status == 0 else {
            Unmanaged<WorkerSession>.fromOpaque(box).release()
            throw WorkerServiceError("could not start the worker socket thread (pthread_create returned \(status))")
        }
        thread = handle
    }

    /// Starts a graceful shutdown: tells the router (`draining`) to route nothing more here,
    /// answers any `submit` still arriving with `failed` (the router retries it elsewhere), and
    /// keeps serving the running requests. Call ``stop()`` when they are done or `deadline`
    /// passed; it then sends `leaving`. Idempotent; any thread.
    public func drain(deadline: Duration) {
        condition.lock()
        if drainDeadline == nil { drainDeadline = deadline }
        condition.unlock()
        outbox.post(.wake)
    }

    /// Stops the socket thread and waits for it; the sockets are closed by then. A registered
    /// worker says `leaving` first, so the router moves what is unfinished at once. Requests the
    /// engine is still running keep running (shut the engine down to end them). Idempotent.
    public func stop() {
        condition.lock()
        isStopRequested = true
        let handle = thread
        thread = nil
        condition.unlock()
        outbox.post(.wake)
        if let handle { pthread_join(handle, nil) }
        update(.stopped(reason: "stopped"), onlyIfPending: false, keepingFinal: true)
    }

    // MARK: - Called by the session on the socket thread

    var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return isStopRequested
    }

    /// The deadline of a requested drain, or `nil`.
    var requestedDrain: Duration? {
        condition.lock()
        defer { condition.unlock() }
        return drainDeadline
    }

    /// Records how many submitted requests have not finished.
    func updateUnfinishedRequests(_ count: Int) {
        condition.lock()
        unfinishedCount = count
        condition.unlock()
        changes.notify()
    }

    /// Sets the state. With `onlyIfPending`, only leaves `.pending`; with `keepingFinal`, a
    /// refusal or timeout already recorded is not overwritten by `.stopped`.
    func update(_ state: WorkerRegistrationState, onlyIfPending: Bool = false, keepingFinal: Bool = false) {
        condition.lock()
        if onlyIfPending, currentState != .pending { return condition.unlock() }
        if keepingFinal {
            switch currentState {
            case .refused, .timedOut, .stopped: return condition.unlock()
            case .pending, .registered: break
            }
        }
        currentState = state
        condition.broadcast()
        condition.unlock()
        changes.notify()
    }
}

/// The module's error: the endpoint could not start.
public struct WorkerServiceError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public let message: String

    init(_ message: String) { self.message = message }

    public var description: String { "WorkerServiceError: \(message)" }
}

