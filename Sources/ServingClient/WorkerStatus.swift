/// One worker as the router reports it in `GET /workers` (and `POST /workers`).
///
/// Only ``id`` is required; a field the router does not send is nil.
public struct WorkerStatus: Sendable, Equatable, Codable {
    /// The router's id for this worker, used by `DELETE /workers/{id}` (numbers are kept as text).
    public var id: String
    /// Where the router reaches it, e.g. `tcp://10.0.0.5:7000`.
    public var endpoint: String?
    /// Whether the router sends it requests now.
    public var isRoutable: Bool?
    /// Shutting down: finishing its requests, taking no new ones.
    public var isDraining: Bool?
    /// Random per worker process start: a new value means the worker restarted.
    public var incarnation: UInt64?
    public var model: String?
    public var tensorParallelSize: Int?
    /// Requests decoding or prefilling on the worker.
    public var running: Int?
    /// Requests queued on the worker.
    public var waiting: Int?
    public var freePages: Int?
    public var evictablePages: Int?
    public var cachedPages: Int?
    public var totalPages: Int?
    /// Recent prefill throughput the router uses to predict time to first token.
    public var prefillTokensPerSecond: Double?
    /// Requests the router has dispatched to it and not seen finish.
    public var inFlight: Int?

    public init(id: String, endpoint: String? = nil) {
        self.id = id
        self.endpoint = endpoint
    }

    enum CodingKeys: String, CodingKey {
        case id, endpoint, incarnation, model, running, waiting
        case isRoutable = "routable"
        case isDraining = "draining"
        case tensorParallelSize = "tensor_parallel_size"
        case freePages = "free_pages"
        case evictablePages = "evictable_pages"
        case cachedPages = "cached_pages"
        case totalPages = "total_pages"
        case prefillTokensPerSecond = "prefill_tokens_per_second"
        case inFlight = "in_flight"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let number = try? container.decode(Int.self, forKey: .id) {
            id = String(number)
        } else {
            id = try container.decode(String.self, forKey: .id)
        }
        endpoint = try container.decodeIfPresent(String.self, forKey: .endpoint)
        isRoutable = try container.decodeIfPresent(Bool.self, forKey: .isRoutable)
        isDraining = try container.decodeIfPresent(Bool.self, forKey: .isDraining)
        incarnation = try container.decodeIfPresent(UInt64.self, forKey: .incarnation)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        tensorParallelSize = try container.decodeIfPresent(Int.self, forKey: .tensorParallelSize)
        running = try container.decodeIfPresent(Int.self, forKey: .running)
        waiting = try container.decodeIfPresent(Int.self, forKey: .waiting)
        freePages = try container.decodeIfPresent(Int.self, forKey: .freePages)
        evictablePages = try container.decodeIfPresent(Int.self, forKey: .evictablePages)
        cachedPages = try container.decodeIfPresent(Int.self, forKey: .cachedPages)
        totalPages = try container.decodeIfPresent(Int.self, forKey: .totalPages)
        prefillTokensPerSecond = try container.decodeIfPresent(Double.self, forKey: .prefillTokensPerSecond)
        inFlight = try container.decodeIfPresent(Int.self, forKey: .inFlight)
    }
}

/// The `GET /workers` body.
struct WorkerList: Decodable {
    var workers: [WorkerStatus]
}
