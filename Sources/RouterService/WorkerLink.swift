// RadixServe: the router's ZeroMQ ROUTER socket and the thread that owns it.

import Foundation
import Logging
import Transport

/// What the socket thread should do next, posted from any thread.
enum WorkerLinkCommand: Sendable {
    /// Send one frame to the peer with this routing id (a worker's 4 id bytes, or the id the
    /// router gave a connection it made).
    case send(routingID: [UInt8], frame: [UInt8])
    /// Connect the ROUTER socket to a worker that listens (`worker --listen`); whatever arrives
    /// over that connection carries `routingID` (see ``WorkerLink/connectionRoutingID()``).
    case connect(endpoint: String, routingID: [UInt8], completion: @Sendable (String?) -> Void)
    /// Drop a connection made by `connect`.
    case disconnect(endpoint: String)
}

/// The socket thread's callbacks. Called on the socket thread only.
protocol WorkerLinkDelegate: AnyObject, Sendable {
    /// One message arrived: `frames[0]` is the sender's routing id.
    func link(received frames: [[UInt8]])
    /// Called about every `tickInterval` (heartbeat sweeps, pending expiry).
    func linkTick()
    /// A frame for `routingID` could not be sent (peer gone, queue full) and was dropped.
    func link(failedToSend frame: [UInt8], to routingID: [UInt8])
}

/// A ROUTER socket bound to the worker endpoint, served by one dedicated thread: it receives
/// worker messages and hands them to the delegate, and sends what other threads post.
///
/// Thread-safe: the socket is confined to the thread; the command queue is behind a lock and
/// wakes the thread through an `inproc` PAIR (the same pattern as the worker's outbox).
final class WorkerLink: @unchecked Sendable {
    // @unchecked: `commands`, `waker`, `isStopping`, `thread` and `authenticator` are guarded by `lock`.
    private let lock = NSLock()
    private var commands: [WorkerLinkCommand] = []
    private var waker: ZMQSocket?
    private var isStopping = false
    private var thread: pthread_t?
    private let context: ZMQContext
    private let bindEndpoint: String
    private let maxFrameBytes: Int
    private let tickInterval: Duration
    private let curveSecretKey: String?
    private let authorizedKeys: CurveAllowlist?
    /// Admits the workers in `authorizedKeys` at the CURVE handshake; runs from `start` to `stop`.
    private var authenticator: ZAPAuthenticator?
    private let logger: Logger
    private weak var delegate: (any WorkerLinkDelegate)?
    /// The endpoint actually bound (with the port resolved), set before `start` returns.
    private(set) var boundEndpoint = ""

    init(
        context: ZMQContext, bindEndpoint: String, maxFrameBytes: Int, tickInterval: Duration, curveSecretKey: String?,
        authorizedKeys: CurveAllowlist? = nil, logger: Logger
    ) {
        self.context = context
        self.bindEndpoint = bindEndpoint
        self.maxFrameBytes = maxFrameBytes
        self.tickInterval = tickInterval
        self.curveSecretKey = curveSecretKey
        self.authorizedKeys = authorizedKeys
        self.logger = logger
    }

    /// Binds and starts the thread. Throws when the endpoint cannot be bound.
    func start(delegate: any WorkerLinkDelegate) throws {
        self.delegate = delegate
        if curveSecretKey != nil, let authorizedKeys {
            let logger = logger
            let handler = try ZAPAuthenticator(context: context, allowlist: authorizedKeys) { refusal in
                logger.warning(
                    "refused a worker connection from \(refusal.address): \(refusal.reason) (key \(refusal.publicKey ?? "none"))")
            }
            lock.withLock { authenticator = handler }
        }
        let ready = StartSignal()
        let box = Unmanaged.passRetained(LinkThreadBox(link: self, ready: ready)).toOpaque()
        var handle = pthread_t()
        let status = pthread_create(&handle, nil, { raw in
            let box = Unmanaged<LinkThreadBox>.fromOpaque(raw!).takeRetainedValue()
            box.link.run(ready: box.ready)
            return nil
        }, box)
        guard status == 0 else {
            Unmanaged<LinkThreadBox>.fromOpaque(box).release()
            throw RouterServiceError("could not start the router socket thread (pthread_create returned \(status))")
        }
        lock.withLock { thread = handle }
        if let failure = ready.wait() {
            pthread_join(handle, nil)
            lock.withLock { thread = nil }
            stop()
            throw RouterServiceError(failure)
        }
    }

    /// Queues a command; never blocks on I/O. Ignored after `stop()`.
    func post(_ command: WorkerLinkCommand) {
        lock.lock()
        defer { lock.unlock() }
        guard !isStopping else { return }
        commands.append(command)
        if commands.count == 1, let waker { _ = try? waker.send([1], timeout: .zero) }
    }

    /// Stops the thread (sending what is queued first) and waits for it. Idempotent.
    func stop() {
        lock.lock()
        isStopping = true
        if let waker { _ = try? waker.send([1], timeout: .zero) }
        let handle = thread
        thread = nil
        let handler = authenticator
        authenticator = nil
        lock.unlock()
        if let handle { pthread_join(handle, nil) }
        handler?.stop()
    }

    private var shouldStop: Bool { lock.withLock { isStopping } }

    private func run(ready: StartSignal) {
        let router: ZMQSocket
        let wakeReceiver: ZMQSocket
        do {
            router = try ZMQSocket(.router, context: context)
            try router.setMaxMessageSize(maxFrameBytes)
            try router.setRouterMandatory(true)
            router.setLingerOnClose(.milliseconds(200))
            if let curveSecretKey { try router.setCurveServer(secretKey: curveSecretKey) }
            boundEndpoint = try router.bind(bindEndpoint)
            let wakeEndpoint = "inproc://radixserve-router-wake-\(UInt64.random(in: 0...(.max)))"
            wakeReceiver = try ZMQSocket(.pair, context: context)
            try wakeReceiver.bind(wakeEndpoint)
            let wakeSender = try ZMQSocket(.pair, context: context)
            try wakeSender.connect(wakeEndpoint)
            lock.withLock { waker = wakeSender }
        } catch {
            ready.signal(failure: "cannot listen for workers on \(bindEndpoint): \(error)")
            return
        }
        ready.signal(failure: nil)
        defer {
            lock.withLock {
                waker?.close()
                waker = nil
            }
            wakeReceiver.close()
            router.close()
        }
        let poller = ZMQPoller()
        let routerIndex = poller.register(router)
        let wakeIndex = poller.register(wakeReceiver)
        let clock = ContinuousClock()
        var nextTick = clock.now.advanced(by: tickInterval)
        while true {
            let stopping = shouldStop
            do {
                _ = try poller.poll(timeout: stopping ? .zero : max(.zero, nextTick - clock.now))
            } catch {
                logger.error("router socket poll failed: \(error)")
            }
            if poller.isReadable(at: wakeIndex) {
                while (try? wakeReceiver.receive(timeout: .zero)) != nil {}
            }
            if poller.isReadable(at: routerIndex) {
                var budget = 4096  // let commands and ticks interleave with a flood of messages
                while budget > 0, let frames = try? router.receive(timeout: .zero) {
                    budget -= 1
                    delegate?.link(received: frames)
                }
            }
            for command in lock.withLock({ () -> [WorkerLinkCommand] in
                defer { commands.removeAll(keepingCapacity: true) }
                return commands
            }) {
                execute(command, on: router)
            }
            if clock.now >= nextTick {
                delegate?.linkTick()
                nextTick = clock.now.advanced(by: tickInterval)
            }
            if stopping { return }
        }
    }

    private func execute(_ command: WorkerLinkCommand, on router: ZMQSocket) {
        switch command {
        case .send(let routingID, let frame):
            do {
                try router.send([routingID, frame], timeout: .milliseconds(100))
            } catch {
                let connection = routingID.map { String(format: "%02x", $0) }.joined()
                let peer = WorkerLink.workerID(routingID: routingID).map { "worker \($0)" } ?? "the worker on connection \(connection)"
                logger.warning("could not send to \(peer): \(error)")
                delegate?.link(failedToSend: frame, to: routingID)
            }
        case .connect(let endpoint, let routingID, let completion):
            do {
                try router.setConnectRoutingID(routingID)
                _ = try router.connect(endpoint)
                completion(nil)
            } catch {
                completion("cannot connect to \(endpoint): \(error)")
            }
        case .disconnect(let endpoint):
            try? router.disconnect(endpoint)
        }
    }

    /// The worker id a DEALER routing id encodes (4 little-endian bytes), or nil.
    static func workerID(routingID: [UInt8]) -> UInt32? {
        guard routingID.count == 4 else { return nil }
        return UInt32(routingID[0]) | UInt32(routingID[1]) << 8 | UInt32(routingID[2]) << 16 | UInt32(routingID[3]) << 24
    }

    /// A fresh routing id for a connection the router makes: a marker byte and 8 random bytes,
    /// so it never looks like a worker's 4-byte id and no peer can guess it (libzmq aborts on a
    /// connection id already in use).
    static func connectionRoutingID() -> [UInt8] {
        [0xC0] + withUnsafeBytes(of: UInt64.random(in: 0...(.max))) { Array($0) }
    }

    /// The routing id of worker `id`.
    static func routingID(workerID id: UInt32) -> [UInt8] { withUnsafeBytes(of: id.littleEndian) { Array($0) } }
}

/// Carries the link onto its thread.
private final class LinkThreadBox: @unchecked Sendable {
    let link: WorkerLink
    let ready: StartSignal
    init(link: WorkerLink, ready: StartSignal) {
        self.link = link
        self.ready = ready
    }
}

/// A one-shot result from a starting thread.
final class StartSignal: @unchecked Sendable {
    // @unchecked: guarded by `condition`.
    private let condition = NSCondition()
    private var result: String??

    func signal(failure: String?) {
        condition.lock()
        result = .some(failure)
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until signalled; returns the failure, or nil on success.
    func wait() -> String? {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
    }
}
