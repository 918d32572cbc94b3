// RadixServe: the continuous-batching scheduler.
// Shape follows nano-vllm engine/scheduler.py and mini-sglang scheduler/scheduler.py.

import KVPaging
import ServingTypes

/// Continuous-batching policy: which requests run each step, and where their KV lives.
///
/// The engine loop drives it, strictly alternating:
/// ```
/// add / abort (any number) → schedule() → [compute the batch] → postprocess(sampled:) → …
/// ```
/// - ``schedule()`` is prefill-first: it continues chunked prefills, then admits waiting
///   requests under the ``SchedulerConfig/maxBatchedTokens`` budget (check → match prefix
///   → lock → allocate → re-check). With nothing to prefill it decodes every running
///   request one token, evicting cached pages and then retracting requests when pages run out.
/// - ``postprocess(sampled:)`` appends sampled tokens, finishes requests and caches their KV.
///
/// Invariants (verified by ``checkIntegrity()``): every live request is in exactly one of the
/// waiting and running queues; waiting requests hold no pages or locks; every page is free,
/// cached, or privately owned by exactly one running request.
///
/// Not thread-safe: confine the scheduler to the engine thread. It is deliberately not
/// `Sendable`.
public final class Scheduler {
    /// The configuration.
    public let config: SchedulerConfig

    /// The prefix cache and, through it, the page pool.
    package var cache: RadixPrefixCache

    /// Live requests (waiting or running) by id.
    package var requests: [RequestID: Request] = [:]

    /// Waiting requests; index 0 is admitted next (under FCFS).
    package var waiting: [RequestID] = []

    /// Running requests in admission order; the last one is retracted first.
    package var running: [RequestID] = []

    /// Whether a batch is in flight (scheduled, not yet postprocessed).
    package var isBatchInFlight = false

    /// Requests of the batch in flight that still expect a sampled token.
    package var pendingSamples: Set<RequestID> = []

    /// Requests of the batch in flight (whose KV may be half written).
    package var inFlight: Set<RequestID> = []
    /// Whether the batch in flight is a prefill batch (its finished prefills get cached).
    package var isPrefillInFlight = false

    /// The entries of the latest decode batch and the events of the latest postprocess, kept so
    /// the next step refills their storage instead of allocating (see ``reuse(_:)``).
    var entryBuffer: [BatchEntry] = []
    var eventBuffer: [SchedulerEvent] = []

    /// Retractions since creation (a load/metrics counter).
    public package(set) var retractionTotal: Int = 0

    package var arrivalCounter: UInt64 = 0
    package var admissionCounter: UInt64 = 0

    /// Creates a scheduler with an empty pool of `config.pageCount` pages.
    /// Precondition: every count and size in `config` is positive.
    public init(config: SchedulerConfig) {
        precondition(config.pageCount > 0 && config.pageSize > 0, "pool must have pages")
        precondition(config.maxBatchedTokens > 0 && config.maxRunningRequests > 0 && config.maxModelLength > 0)
        self.config = config
        self.cache = RadixPrefixCache(
            pageCount: config.pageCount,
            pageSize: config.pageSize,
            hashSeed: config.hashSeed,
            isRecordingEvents: config.isRecordingKVEvents
        )
    }

    // MARK: - Requests in and out

    /// Queues a request, or refuses it at once.
    ///
    /// Refused (returned as a `.finished(… .error …)` event, the request is not kept) when
    /// its parameters are invalid, its prompt is empty, prompt + `maxTokens` exceeds
    /// ``SchedulerConfig/maxModelLength``, its KV could not fit in the whole pool, or its id
    /// is already live (the live request is unaffected).
    /// - Returns: `nil` when queued.
    public func add(_ request: Request) -> SchedulerEvent? {
        if let error = admissionError(request) {
            return .finished(
                requestID: request.id,
                reason: .error(message: error.description),
                promptTokenCount: request.promptTokenCount,
                completionTokenCount: 0,
                cachedTokenCount: 0
            )
        }
        var request = request
        request.state = .waiting
        arrivalCounter += 1
        request.arrivalIndex = arrivalCounter
        requests[request.id] = request
        waiting.append(request.id)
        return nil
    }

    /// Aborts a live request in any state, releasing its pages and locks. Computed KV is
    /// kept in the prefix cache unless the request is part of the batch in flight.
    /// - Returns: the `.finished(… .abort …)` event, or `nil` for an unknown id.
    public func abort(_ id: RequestID) -> SchedulerEvent? {
        guard let request = requests[id] else { return nil }
        if request.state == .running {
            releaseResources(of: id, keepingComputedKV: !inFlight.contains(id))
            running.removeAll { $0 == id }
        } else {
            waiting.removeAll { $0 == id }
        }
        pendingSamples.remove(id)
        inFlight.remove(id)
        return finish(id, reason: .abort)
    }

    /// A copy of a live request, or `nil` once finished or unknown.
    public func request(_ id: RequestID) -> Request? { requests[id] }

    // MARK: - Load and cache

    /// Requests waiting for admission.
    public var waitingCount: Int { waiting.count }

    /// Admitted requests.
    public var runningCount: Int { running.count }

    /// True when nothing is waiting or running.
    public var isIdle: Bool { requests.isEmpty }

    /// Pages on the free list.
    public var freePageCount: Int { cache.pool.freePageCount }

    /// Cached pages that could be evicted now.
    public var evictablePageCount: Int { cache.evictablePageCount }

    /// A load snapshot for the router (speeds are the engine's to fill in).
    public var load: LoadReport {
        LoadReport(
            runningCount: running.count,
            waitingCount: waiting.count,
            waitingPrefillTokens: pendingPrefillTokenCount,
            freePages: cache.pool.freePageCount,
            evictablePages: cache.evictablePageCount,
            cachedPages: cache.cachedPageCount,
            totalPages: cache.pool.pageCount
        )
    }

    /// Tokens still to prefill before the queued work produces output: waiting requests' tokens
    /// past their prefix-cache hit at first admission (all of them for requests never admitted;
    /// retracted ones recompute their outputs too), plus what chunked prefills have left.
    /// O(live requests).
    public var pendingPrefillTokenCount: Int {
        var total = 0
        for id in waiting {
            guard let request = requests[id] else { continue }
            total += max(request.tokenIDs.count - request.cachedTokenCount, 0)
        }
        for id in running {
            guard let request = requests[id], request.isPrefilling else { continue }
            total += max(request.tokenIDs.count - request.computedTokenCount, 0)
        }
        return total
    }

    /// Prefix-cache changes since the last call, oldest first (see ``KVPaging/CacheEvent``).
    public func drainKVEvents() -> [CacheEvent] { cache.drainEvents() }

    /// The whole prefix cache as page-hash chains, parents first (see
    /// ``KVPaging/RadixPrefixCache/cachedChains()``); includes changes not yet drained.
    public func cachedChains() -> [CachedChain] { cache.cachedChains() }

    /// Drops the prefix cache. While running requests hold cached prefixes (every running
    /// request does once its prompt is cached), only what they do not hold is dropped, leaf by
    /// leaf with `removed` events, and the result is false; true when the cache is now empty.
    public func flushCache() -> Bool {
        if cache.flush() { return true }
        _ = cache.evict(pageCount: cache.cachedPageCount)
        return cache.cachedPageCount == 0
    }

    // MARK: - Helpers

    /// Pages needed to hold KV for `tokenCount` positions.
    package func pagesFor(_ tokenCount: Int) -> Int {
        (tokenCount + config.pageSize - 1) / config.pageSize
    }

    private func admissionError(_ request: Request) -> SchedulingError? {
        do {
            try request.params.validate()
        } catch {
            return .invalidParameter(error)
        }
        if request.promptTokenCount == 0 { return .emptyPrompt }
        if requests[request.id] != nil { return .duplicateRequestID(request.id) }
        let total = request.promptTokenCount + request.params.maxTokens
        if total > config.maxModelLength {
            return .exceedsMaxModelLength(
                promptTokenCount: request.promptTokenCount, maxTokens: request.params.maxTokens,
                limit: config.maxModelLength)
        }
        // The last generated token is never fed back, so it needs no KV slot.
        let required = pagesFor(total - 1)
        if required > config.pageCount {
            return .exceedsKVCapacity(requiredPages: required, totalPages: config.pageCount)
        }
        return nil
    }
}

// MARK: - Storage reused across steps

extension Scheduler {
    /// `buffer`'s storage, emptied, leaving an empty array in its place. Refilling it allocates
    /// nothing when no one else holds it any more: the engine drops a step's batch and events
    /// before the next step, and the scheduler keeps them (``entryBuffer``, ``eventBuffer``) only
    /// to hand their storage back here.
    static func reuse<Element>(_ buffer: inout [Element]) -> [Element] {
        var storage: [Element] = []
        swap(&storage, &buffer)
        storage.removeAll(keepingCapacity: true)
        return storage
    }

    /// Releases what the previous batch's entries hold (page tables shared with requests), so
    /// growing a request's page table does not copy it.
    func releaseEntryBuffer() {
        entryBuffer.removeAll(keepingCapacity: true)
    }
}
