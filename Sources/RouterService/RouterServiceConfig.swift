// RadixServe: how the router process listens for workers and what it requires of them.

import Foundation
import Logging
import RouterCore
import ServingTypes
import Transport
import WireProtocol

/// Static configuration of a ``RouterCoordinator``.
package struct RouterServiceConfig: Sendable {
    /// Where the ROUTER socket binds for workers (`tcp://127.0.0.1:5557`, `ipc:///tmp/x`).
    package var workerEndpoint: String
    /// The served model's name (`/v1/models`, the `model` field of responses).
    package var modelID: String
    /// The checkpoint fingerprint workers must match.
    package var modelFingerprint: String
    /// Tokens per KV page; workers must match.
    package var pageSize: Int
    /// Seed of the page-hash chains; workers must match.
    package var hashSeed: UInt64
    /// Longest prompt + output the model takes.
    package var maxModelLength: Int
    /// End-of-sequence tokens (model config and tokenizer): a request whose last streamed token
    /// is one of them is complete even if its worker died before saying so.
    package var eosTokenIDs: Set<Int32> = []
    /// Dispatch policy.
    package var policy: DispatchPolicy
    /// Coefficients of the `cache-aware` policy.
    package var costModel = CostModel()
    /// Interval the router asks workers to heartbeat at; also the housekeeping tick.
    package var heartbeatInterval: Duration
    /// Missed intervals after which a worker is unroutable and its requests move elsewhere.
    package var missedHeartbeatLimit: Int
    /// Dispatch attempts per request before it fails (first try included).
    package var maxAttempts: Int
    /// Requests admitted at once; more get a "too many requests" error.
    package var maxInFlightRequests: Int
    /// Largest frame accepted from a worker.
    package var maxFrameBytes: Int
    /// CURVE secret key of the router; nil for plain traffic.
    package var curveSecretKey: String?
    /// With ``curveSecretKey``: the worker public keys admitted (a ZAP handler refuses others at the
    /// handshake). `nil` admits any client that knows the router's public key.
    package var authorizedWorkerKeys: CurveAllowlist?
    /// Seed of the dispatcher's random choices.
    package var seed: UInt64
    /// Where diagnostics go (any thread), one line per event; worker and request ids ride as metadata.
    package var logger: Logger

    /// Creates a configuration.
    package init(
        workerEndpoint: String, modelID: String, modelFingerprint: String, pageSize: Int, hashSeed: UInt64,
        maxModelLength: Int, policy: DispatchPolicy = .cacheAware, heartbeatInterval: Duration = .milliseconds(250),
        missedHeartbeatLimit: Int = 4, maxAttempts: Int = 3, maxInFlightRequests: Int = 4096,
        maxFrameBytes: Int = WireFrameHeader.defaultMaxFrameBytes, curveSecretKey: String? = nil,
        authorizedWorkerKeys: CurveAllowlist? = nil,
        seed: UInt64 = .random(in: 0...(.max)),
        logger: Logger = Logger(label: "radixserve.router")
    ) {
        self.workerEndpoint = workerEndpoint
        self.modelID = modelID
        self.modelFingerprint = modelFingerprint
        self.pageSize = pageSize
        self.hashSeed = hashSeed
        self.maxModelLength = maxModelLength
        self.policy = policy
        self.heartbeatInterval = heartbeatInterval
        self.missedHeartbeatLimit = missedHeartbeatLimit
        self.maxAttempts = maxAttempts
        self.maxInFlightRequests = maxInFlightRequests
        self.maxFrameBytes = maxFrameBytes
        self.curveSecretKey = curveSecretKey
        self.authorizedWorkerKeys = authorizedWorkerKeys
        self.seed = seed
        self.logger = logger
    }
}

extension RouterServiceConfig {
    /// When a request whose worker went away is already complete: the same rule workers apply.
    package var stopRule: StopRule { StopRule(eosTokenIDs: eosTokenIDs, maxModelLength: maxModelLength) }
}

extension WorkerID {
    /// The worker's id as log metadata (`worker=3`).
    package var logMetadata: Logger.Metadata { ["worker": "\(rawValue)"] }
}
