// RadixServe: how a worker reaches its router and introduces itself.

import Foundation
import Logging
import Models
import Transport
import WireProtocol

/// Static configuration of a ``WorkerEndpoint``.
public struct WorkerEndpointConfig: Sendable {
    /// The router's ROUTER endpoint (`tcp://host:port` or `ipc://path`), or with
    /// ``RouterConnection/bind`` the endpoint this worker listens on.
    public var routerEndpoint: String
    /// Whether the worker dials the router or waits for the router to dial it.
    public var connection: RouterConnection
    /// The worker's id; its ZeroMQ routing id is the 4 little-endian bytes of this value.
    public var workerID: UInt32
    /// Random per process start (a fresh value tells the router this worker's cache is empty).
    public var incarnation: UInt64
    /// The served model's name (for the router's model list and messages).
    public var modelID: String
    /// The checkpoint fingerprint the router compares (`ModelFingerprint.compute`).
    public var modelFingerprint: String
    /// Ranks in this worker's tensor-parallel group.
    public var tensorParallelSize: Int
    /// Give up registering after this long without an answer. Ignored with
    /// ``RouterConnection/bind``: a listening worker waits for a router indefinitely.
    public var registrationTimeout: Duration
    /// Resend `register` this often until answered.
    public var registrationRetryInterval: Duration
    /// Heartbeat interval until the router names one in `registered`.
    public var heartbeatInterval: Duration
    /// How long one send may wait for the router's queue before the message is dropped (and logged).
    public var sendTimeout: Duration
    /// Largest accepted frame from the router.
    public var maxFrameBytes: Int
    /// CURVE client keys and the router's public key; `nil` for plain traffic.
    public var curve: (serverPublicKey: String, keyPair: CurveKeyPair)?
    /// Where diagnostics go (any thread), one line per event, with this worker's id as metadata.
    public var logger: Logger

    /// Creates a configuration with a random incarnation.
    public init(
        routerEndpoint: String, connection: RouterConnection = .connect, workerID: UInt32,
        incarnation: UInt64 = .random(in: 1...(.max)), modelID: String,
        modelFingerprint: String, tensorParallelSize: Int = 1, registrationTimeout: Duration = .seconds(30),
        registrationRetryInterval: Duration = .milliseconds(500), heartbeatInterval: Duration = .seconds(1),
        sendTimeout: Duration = .seconds(5), maxFrameBytes: Int = WireFrameHeader.defaultMaxFrameBytes,
        curve: (serverPublicKey: String, keyPair: CurveKeyPair)? = nil,
        logger: Logger = Logger(label: "radixserve.worker")
    ) {
        self.routerEndpoint = routerEndpoint
        self.connection = connection
        self.workerID = workerID
        self.incarnation = incarnation
        self.modelID = modelID
        self.modelFingerprint = modelFingerprint
        self.tensorParallelSize = tensorParallelSize
        self.registrationTimeout = registrationTimeout
        self.registrationRetryInterval = registrationRetryInterval
        self.heartbeatInterval = heartbeatInterval
        self.sendTimeout = sendTimeout
        self.maxFrameBytes = maxFrameBytes
        self.curve = curve
        self.logger = logger
        self.logger[metadataKey: "worker"] = "\(workerID)"
    }

    /// The DEALER routing id for `workerID`.
    public var routingID: [UInt8] { withUnsafeBytes(of: workerID.littleEndian) { Array($0) } }
}

/// How a worker's DEALER socket meets the router's ROUTER socket.
public enum RouterConnection: Sendable, Hashable {
    /// Connect to the router, which has bound ``WorkerEndpointConfig/routerEndpoint``.
    case connect
    /// Bind ``WorkerEndpointConfig/routerEndpoint`` and wait for a router to connect (for
    /// routers that discover workers, e.g. behind a service address). The routing id still
    /// travels in the ZeroMQ handshake, so the router addresses the worker the same way.
    /// `register` is resent until a router answers, without a deadline. Serve one router at a
    /// time: a DEALER spreads its messages over every connected peer.
    case bind
}

/// Where a worker stands with its router.
public enum WorkerRegistrationState: Sendable, Hashable {
    /// Still sending `register`.
    case pending
    /// The router accepted the worker.
    case registered
    /// The router refused the worker; it serves nothing.
    case refused(reason: String)
    /// No answer within ``WorkerEndpointConfig/registrationTimeout``.
    case timedOut
    /// The endpoint stopped (by ``WorkerEndpoint/stop()`` or a transport failure, named here).
    case stopped(reason: String)
}

extension RouterConnection {
    /// Whether `endpoint` is `ipc://PATH` or `tcp://HOST:PORT` (port 1...65535, or `*` where
    /// binding may pick one and `allowsWildcardPort`).
    public static func isValidEndpoint(_ endpoint: String, allowsWildcardPort: Bool) -> Bool {
        if endpoint.hasPrefix("ipc://") && endpoint.count > "ipc://".count { return true }
        guard endpoint.hasPrefix("tcp://") else { return false }
        let address = endpoint.dropFirst("tcp://".count)
        guard let colon = address.lastIndex(of: ":"), colon != address.startIndex else { return false }
        let port = address[address.index(after: colon)...]
        return (allowsWildcardPort && port == "*") || Int(port).map({ (1...65535).contains($0) }) == true
    }
}

extension WorkerEndpointConfig {
    /// `radixserve worker`'s configuration: it dials `router`, or else listens on `listen`; a random
    /// id unless `workerID`; the model id is the checkpoint directory's name, its fingerprint
    /// computed here (`ModelFingerprint.compute`).
    public init(
        router: String?, listen: String?, workerID: UInt32?, modelDirectory: URL, tensorParallelSize: Int,
        registrationTimeoutSeconds: Double, curve: (serverPublicKey: String, keyPair: CurveKeyPair)?
    ) throws {
        let modelFingerprint = try ModelFingerprint.compute(directory: modelDirectory, checkpoint: Checkpoint(directory: modelDirectory))
        self.init(
            routerEndpoint: router ?? listen ?? "", connection: router == nil ? .bind : .connect,
            workerID: workerID ?? .random(in: 1...(.max)), modelID: modelDirectory.standardized.lastPathComponent,
            modelFingerprint: modelFingerprint, tensorParallelSize: tensorParallelSize,
            registrationTimeout: .milliseconds(Int64(registrationTimeoutSeconds * 1000)), curve: curve)
    }
}
