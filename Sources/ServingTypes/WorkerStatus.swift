// RadixServe: the bodies of GET and POST /workers, written by the router and read by the client.

/// One worker as the router reports it in `GET /workers` (and `POST /workers`). The router
/// fills every field; ``endpoint`` is absent for a worker that connected to the router.
public struct WorkerStatus: Sendable, Hashable, Codable {
    /// The router's id for this worker, used by `DELETE /workers/{id}`.
    public var id: UInt32
    /// Where the router reaches it (`POST /workers`), e.g. `tcp://10.0.0.5:7000`; nil when the
    /// worker connected to the router.
    public var endpoint: String?
    /// Whether the router sends it requests now.
    public var isRoutable: Bool
    /// Shutting down: finishing its requests, taking no new ones.
    public var isDraining: Bool
    /// Random per worker process start: a new value means the worker restarted.
    public var incarnation: UInt64
    public var model: String
    public var tensorParallelSize: Int
    /// Longest prompt + output the worker accepts, in tokens.
    public var maxModelLength: Int
    /// Requests decoding or prefilling on the worker.
    public var running: Int
    /// Requests queued on the worker.
    public var waiting: Int
    public var freePages: Int
    public var evictablePages: Int
    public var cachedPages: Int
    public var totalPages: Int
    /// Recent prefill throughput the router uses to predict time to first token.
    public var prefillTokensPerSecond: Double
    public var decodeTokensPerSecond: Double
    /// Requests the router has dispatched to it and not seen finish.
    public var inFlight: Int
    /// Whether its cache events name the router's page hashes: `verified`, `unverified` (nothing
    /// matched yet) or `untrusted` (routed by load only; docs/WIRE_PROTOCOL.md, "What the router checks").
    public var cacheEvents: String
    /// Whether it runs in deterministic mode (batch-invariant kernels; `register.features`); nil
    /// when the router did not say (one from before the field).
    public var isDeterministic: Bool?

    public init(
        id: UInt32, endpoint: String?, isRoutable: Bool, isDraining: Bool, incarnation: UInt64, model: String,
        tensorParallelSize: Int, maxModelLength: Int, running: Int, waiting: Int, freePages: Int, evictablePages: Int,
        cachedPages: Int, totalPages: Int, prefillTokensPerSecond: Double, decodeTokensPerSecond: Double, inFlight: Int,
        cacheEvents: String = "unverified", isDeterministic: Bool? = nil
    ) {
        self.id = id
        self.endpoint = endpoint
        self.isRoutable = isRoutable
        self.isDraining = isDraining
        self.incarnation = incarnation
        self.model = model
        self.tensorParallelSize = tensorParallelSize
        self.maxModelLength = maxModelLength
        self.running = running
        self.waiting = waiting
        self.freePages = freePages
        self.evictablePages = evictablePages
        self.cachedPages = cachedPages
        self.totalPages = totalPages
        self.prefillTokensPerSecond = prefillTokensPerSecond
        self.decodeTokensPerSecond = decodeTokensPerSecond
        self.inFlight = inFlight
        self.cacheEvents = cacheEvents
        self.isDeterministic = isDeterministic
    }

    enum CodingKeys: String, CodingKey {
        case id, endpoint, incarnation, model, running, waiting
        case isRoutable = "routable"
        case isDraining = "draining"
        case tensorParallelSize = "tensor_parallel_size"
        case maxModelLength = "max_model_len"
        case freePages = "free_pages"
        case evictablePages = "evictable_pages"
        case cachedPages = "cached_pages"
        case totalPages = "total_pages"
        case prefillTokensPerSecond = "prefill_tokens_per_second"
        case decodeTokensPerSecond = "decode_tokens_per_second"
        case inFlight = "in_flight"
        case cacheEvents = "cache_events"
        case isDeterministic = "deterministic"
    }
}

/// The `GET /workers` body: `{"workers": [...]}`, by id.
public struct WorkerList: Sendable, Hashable, Codable {
    public var workers: [WorkerStatus]

    public init(workers: [WorkerStatus]) {
        self.workers = workers
    }
}
