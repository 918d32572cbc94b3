// Router ⇄ worker messages (docs/WIRE_PROTOCOL.md, "Router ⇄ worker"), family 0x02.

/// Messages the router sends to a worker. Each is one frame: ``WireFrameHeader`` + the payload
/// documented on the case (little-endian; `f64` is an IEEE-754 bit pattern; `opt` is a `u8`
/// flag, 0 or 1, followed by the value only when 1).
public enum RouterToWorker: Sendable, Hashable {
    /// Kind 0x0202. `workerID u32, heartbeatMilliseconds u32`: the worker is accepted and
    /// sends heartbeats at this interval.
    case registered(workerID: UInt32, heartbeatMilliseconds: UInt32)
    /// Kind 0x0203. `reason string(≤ 4096)`: the worker must not serve (it exits or retries later).
    case refused(reason: String)
    /// Kind 0x0204. `requestID u64, tokenIDs i32[]`, then the sampling parameters (see the schema).
    case submit(WorkerSubmit)
    /// Kind 0x0205. `requestID u64`. Unknown ids are ignored.
    case abort(requestID: UInt64)
    /// Kind 0x0206. Empty: drop the prefix cache between steps.
    case flushCache
    /// Kind 0x0207. Empty: reply with a ``WorkerToRouter/snapshot(_:)``.
    case snapshotRequest
    /// Kind 0x0208. Empty: the router does not know this worker (the router restarted) and the
    /// worker must send `register` again.
    case registerAgain
}

/// Messages a worker sends to the router.
public enum WorkerToRouter: Sendable, Hashable {
    /// Kind 0x0201. The handshake; repeated until answered.
    case register(WorkerRegistration)
    /// Kind 0x0210. `u32 count`, then per output `requestID u64, firstIndex u32, tokenIDs i32[],
    /// logprobs u32 count (0 or tokenIDs.count)` and per logprob `logprob f32, top u32 count,
    /// (tokenID i32, logprob f32)…`. One message per engine step.
    case tokens([TokenOutput])
    /// Kind 0x0211. `requestID u64, reason u8, stopTokenID i32, message string(≤ 4096),
    /// promptTokens u32, completionTokens u32, cachedTokens u32`.
    case finished(RequestFinish)
    /// Kind 0x0212. `requestID u64, code u16, message string(≤ 4096)`; the request is gone
    /// (never admitted or lost) and no `finished` follows.
    case failed(requestID: UInt64, code: WorkerFailureCode, message: String)
    /// Kind 0x0213. `incarnation u64, sequence u64, u32 count`, then tagged events.
    case kvEvents(KVEventBatch)
    /// Kind 0x0214. `incarnation u64, sequence u64, u32 count`, then chains
    /// `namespace u64, parentHash opt u64, pageHashes u64[]`.
    case snapshot(CacheSnapshot)
    /// Kind 0x0215. Load figures; see ``WorkerHeartbeat``.
    case heartbeat(WorkerHeartbeat)
    /// Kind 0x0216. `deadlineMilliseconds u32`: the worker is shutting down. It takes no new
    /// requests (a `submit` gets `failed`) and finishes its running ones within this time.
    case draining(deadlineMilliseconds: UInt32)
    /// Kind 0x0217. Empty: the worker is exiting now; requests it has not finished are lost on it.
    case leaving
}

/// Kinds of family 0x02.
extension WireMessageKind {
    public static let workerRegister: UInt16 = 0x0201
    public static let workerRegistered: UInt16 = 0x0202
    public static let workerRefused: UInt16 = 0x0203
    public static let workerSubmit: UInt16 = 0x0204
    public static let workerAbort: UInt16 = 0x0205
    public static let workerFlushCache: UInt16 = 0x0206
    public static let workerSnapshotRequest: UInt16 = 0x0207
    public static let workerRegisterAgain: UInt16 = 0x0208
    public static let workerTokens: UInt16 = 0x0210
    public static let workerFinished: UInt16 = 0x0211
    public static let workerFailed: UInt16 = 0x0212
    public static let workerKVEvents: UInt16 = 0x0213
    public static let workerSnapshot: UInt16 = 0x0214
    public static let workerHeartbeat: UInt16 = 0x0215
    public static let workerDraining: UInt16 = 0x0216
    public static let workerLeaving: UInt16 = 0x0217
}

/// Limits every router ⇄ worker decoder enforces before allocating.
public enum WorkerMessageLimits {
    /// Revision of the router ⇄ worker family carried in `register` (the frame version covers
    /// the header; this covers the family's messages).
    /// Revision 2 added `logitBias`, `minTokens`, `constraint` and `resumedOutputCount` to `submit`;
    /// revision 3 added `features` to `register`.
    public static let protocolRevision: UInt32 = 3
    /// Largest free-text field (model id, reasons, error messages), in bytes.
    public static let maxTextBytes = 4096
    /// Largest model fingerprint, in bytes.
    public static let maxFingerprintBytes = 256
    /// Largest token or page-hash array.
    public static let maxArrayCount = 1 << 22
    /// Largest number of entries (outputs, events, chains) in one message.
    public static let maxEntryCount = 1 << 20
    /// Largest number of top log-probabilities per token.
    public static let maxTopLogprobs = 64
    /// Largest number of `logitBias` entries in one `submit` (the router allows fewer).
    public static let maxLogitBiasCount = 1 << 16
}
