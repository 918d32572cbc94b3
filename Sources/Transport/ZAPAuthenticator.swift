// A ZAP handler (ZeroMQ RFC 27) that admits CURVE clients whose public key is allowlisted.
import Foundation

/// Answers the ZAP requests of every CURVE server socket of one ``ZMQContext``: a client whose
/// public key is in the ``CurveAllowlist`` is admitted (status 200, user id = its name), any other
/// is refused (status 400) and the handshake fails before a single message passes.
///
/// libzmq asks the handler bound at `inproc://zeromq.zap.01` of the server socket's context, so
/// create the authenticator before the server socket binds or connects: a CURVE server socket whose
/// context has no handler admits every client that knows the server's public key. One authenticator
/// per context; keep it as long as the server sockets (dropping it stops it). Refusals are reported
/// through `onRefusal`, at most once a minute per key.
///
/// Thread-safe: the REP socket lives on the authenticator's own thread; ``update(_:)`` and
/// ``stop()`` may be called from any thread.
public final class ZAPAuthenticator: Sendable {
    /// A client the authenticator turned away.
    public struct Refusal: Sendable, Equatable {
        /// The peer's address as libzmq reports it (the IP of a TCP peer).
        public var address: String
        /// The client's public key (Z85), when it offered one.
        public var publicKey: String?
        /// Why, e.g. `its CURVE public key is not in /etc/radixserve/workers`.
        public var reason: String
    }

    /// The endpoint libzmq sends ZAP requests to.
    public static let endpoint = "inproc://zeromq.zap.01"

    /// What the thread uses; the thread holds this, not the authenticator, so dropping the
    /// authenticator stops the thread.
    private let handler: Handler

    /// Binds the handler in `context` and starts its thread.
    /// - Throws: ``TransportError`` when `context` already has a ZAP handler.
    public init(context: ZMQContext, allowlist: CurveAllowlist, onRefusal: @escaping @Sendable (Refusal) -> Void) throws {
        let handler = Handler(allowlist: allowlist, onRefusal: onRefusal)
        try handler.start(context: context)
        self.handler = handler
    }

    /// Replaces the allowlist; connections already admitted stay.
    public func update(_ allowlist: CurveAllowlist) { handler.lock.withLock { handler.allowlist = allowlist } }

    /// Stops answering (later handshakes fail) and waits for the thread. Idempotent.
    public func stop() { handler.stop() }

    deinit { handler.stop() }

    /// The reply frames to one request (version, request id, status code, status text, user id,
    /// metadata); exposed for tests.
    func answer(_ request: [[UInt8]]) -> [[UInt8]] { handler.answer(request) }
}

private final class Handler: @unchecked Sendable {
    // @unchecked: `allowlist`, `isStopping`, `isRunning` and `lastReported` are guarded by `lock`.
    let lock = NSLock()
    var allowlist: CurveAllowlist
    private var isStopping = false
    private var isRunning = false
    private var lastReported: [String: ContinuousClock.Instant] = [:]
    private let onRefusal: @Sendable (ZAPAuthenticator.Refusal) -> Void
    private let finished = DispatchSemaphore(value: 0)

    init(allowlist: CurveAllowlist, onRefusal: @escaping @Sendable (ZAPAuthenticator.Refusal) -> Void) {
        self.allowlist = allowlist
        self.onRefusal = onRefusal
    }

    func start(context: ZMQContext) throws {
        let ready = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: (any Error)?
        let thread = Thread { [self] in
            let socket: ZMQSocket
            do {
                socket = try ZMQSocket(.reply, context: context)
                try socket.bind(ZAPAuthenticator.endpoint)
            } catch {
                failure = error
                ready.signal()
                return
            }
            ready.signal()
            serve(socket)
            socket.close()
            finished.signal()
        }
        thread.name = "radixserve-zap"
        thread.start()
        ready.wait()
        if let failure { throw failure }
        lock.withLock { isRunning = true }
    }

    func stop() {
        let wasRunning = lock.withLock { () -> Bool in
            defer { (isStopping, isRunning) = (true, false) }
            return isRunning
        }
        if wasRunning { finished.wait() }
    }

    private func serve(_ socket: ZMQSocket) {
        while !lock.withLock({ isStopping }) {
            guard let request = try? socket.receive(timeout: .milliseconds(100)) else { continue }
            _ = try? socket.send(answer(request), timeout: .seconds(1))
        }
    }

    func answer(_ request: [[UInt8]]) -> [[UInt8]] {
        // version, request id, domain, address, routing id, mechanism, credentials…
        guard request.count >= 6, request[0] == Array("1.0".utf8) else {
            return [Array("1.0".utf8), request.count > 1 ? request[1] : [], Array("500".utf8), Array("malformed ZAP request".utf8), [], []]
        }
        let address = String(decoding: request[3], as: UTF8.self)
        let mechanism = String(decoding: request[5], as: UTF8.self)
        func reply(_ code: String, _ text: String, user: String = "") -> [[UInt8]] {
            [Array("1.0".utf8), request[1], Array(code.utf8), Array(text.utf8), Array(user.utf8), []]
        }
        guard mechanism == "CURVE", request.count == 7, let key = CurveKeyPair.z85(request[6]) else {
            report(.init(address: address, publicKey: nil, reason: "it uses the \(mechanism) mechanism, not CURVE"))
            return reply("400", "CURVE required")
        }
        let list = lock.withLock { allowlist }
        if let name = list.names[key] { return reply("200", "OK", user: name) }
        report(.init(address: address, publicKey: key, reason: "its CURVE public key is not in \(list.source)"))
        return reply("400", "key not authorized")
    }

    private func report(_ refusal: ZAPAuthenticator.Refusal) {
        let now = ContinuousClock.now
        let due = lock.withLock { () -> Bool in
            let key = refusal.publicKey ?? refusal.address
            if let last = lastReported[key], now - last < .seconds(60) { return false }
            lastReported[key] = now
            return true
        }
        if due { onRefusal(refusal) }
    }
}
