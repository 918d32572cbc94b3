// RadixServe: the state the engine thread owns, and one engine step.
// Step shape follows nano-vllm engine/llm_engine.py (schedule → run → postprocess).

import Backends
import KVPaging
import Models
import Scheduling
import ServingTypes

/// The scheduler, model runner and counters, confined to the engine thread.
///
/// Not thread-safe and deliberately not `Sendable`: only the ``EngineLoop`` thread touches it.
final class EngineCore {
    let config: EngineConfig
    let scheduler: Scheduler
    let runner: ModelRunner
    private let vocabularySize: Int
    private let emit: (EngineEvent) -> Void
    private let cacheEventSink: (([CacheEvent]) -> Void)?
    private var privateNamespaceCounter: UInt64 = 0
    private(set) var stats = EngineStats()
    private var rateWindow = RateWindow()
    /// Why the model can no longer run (see ``ForwardModel/failure``), once known.
    private(set) var modelFailure: String?

    init(
        model: any ForwardModel, config: EngineConfig, emit: @escaping (EngineEvent) -> Void,
        cacheEventSink: (([CacheEvent]) -> Void)? = nil
    ) throws {
        // Capabilities first: a device that cannot hold this cache is refused before it is sized.
        try model.backend.device.check(config.deviceRequirements)
        if config.isDeterministic {
            guard model.shard.size == 1 else { throw EngineError.deterministicTensorParallel(ranks: model.shard.size) }
            try model.backend.enableBatchInvariance()
        }
        let schedulerConfig = try config.schedulerConfig(for: model)
        self.config = config
        scheduler = Scheduler(config: schedulerConfig)
        runner = try ModelRunner(
            model: model, cache: config.kvCacheSpec(for: model, pageCount: schedulerConfig.pageCount), seed: config.seed,
            usesDeviceSampling: config.usesDeviceSampling, eosTokenIDs: schedulerConfig.eosTokenIDs,
            vocabulary: config.vocabulary)
        vocabularySize = model.config.vocabularySize
        self.emit = emit
        self.cacheEventSink = cacheEventSink
    }

    // MARK: - Commands

    /// Applies one command; returns false for `.shutdown`.
    func handle(_ command: EngineCommand) -> Bool {
        switch command {
        case .add(let request):
            add(request)
        case .abort(let id):
            if let event = scheduler.abort(id) { deliver(event) }
        case .flushCache(let completion):
            completion(scheduler.flushCache())
        case .snapshotCache(let completion):
            // NOTE: publish first, so every event the listing already reflects reaches the sink
            // before the listing reaches whoever asked.
            publishCacheEvents()
            completion(scheduler.cachedChains())
        case .shutdown:
            return false
        }
        return true
    }

    private func add(_ request: EngineRequest) {
        if let bad = request.promptTokenIDs.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            let message = "prompt token id \(bad) is outside the vocabulary [0, \(vocabularySize))"
            emit(.finished(requestID: request.id, reason: .error(message: message), usage: .init(
                promptTokenCount: request.promptTokenIDs.count, completionTokenCount: 0, cachedTokenCount: 0)))
            return
        }
        var params = request.params
        if !config.isPrefixCacheEnabled {
            // A namespace of its own: nothing matches across requests, but a retracted
            // request still finds its own KV.
            privateNamespaceCounter &+= 1
            params.namespace = ~privateNamespaceCounter
        }
        if let refusal = scheduler.add(Request(id: request.id, promptTokenIDs: request.promptTokenIDs, params: params)) {
            deliver(refusal)
        } else if let problem = runner.register(request), let event = scheduler.abort(request.id) {
            // An output constraint that cannot be used (no vocabulary, unsupported, unspellable).
            deliver(event, overridingReason: .error(message: problem))
        }
    }

    /// Finishes every live request with `message` (shutdown).
    func failAll(message: String) {
        for id in scheduler.requests.keys.sorted() {
            if let event = scheduler.abort(id) { deliver(event, overridingReason: .error(message: message)) }
        }
    }

    // MARK: - Step

    /// Runs one step; returns false when there was nothing to run.
    func step() -> Bool {
        let scheduleStart = ContinuousClock.now
        guard let batch = scheduler.schedule() else { return false }
        stats.schedulingSeconds += (ContinuousClock.now - scheduleStart).seconds
        let result: StepResult
        do {
            result = try runner.run(batch)
        } catch {
            fail(batch, message: "the forward pass failed: \(error)")
            if modelFailure == nil, let failure = runner.model.failure { modelFailure = "\(failure)" }
            return true
        }
        let postprocessStart = ContinuousClock.now
        let events = scheduler.postprocess(sampled: result.sampled, endings: result.endings)
        stats.schedulingSeconds += (ContinuousClock.now - postprocessStart).seconds
        for event in events { deliver(event, logprobs: result.logprobs) }
        record(batch, result, seconds: (ContinuousClock.now - scheduleStart).seconds)
        if config.isCheckingIntegrity {
            do { try scheduler.checkIntegrity() } catch { preconditionFailure("scheduler integrity: \(error)") }
        }
        return true
    }

    /// Hands the prefix-cache changes recorded since the last call to the cache-event sink (when
    /// publishing is on and there are any). Call once per loop iteration, after the step.
    func publishCacheEvents() {
        guard config.isPublishingKVEvents else { return }
        let events = scheduler.drainKVEvents()
        if !events.isEmpty { cacheEventSink?(events) }
    }

    /// Lets an idle model tell its peers it is alive (a tensor-parallel heartbeat when due);
    /// a failure is recorded in ``modelFailure``.
    func keepModelAlive() {
        guard modelFailure == nil, runner.model.keepAliveInterval != nil else { return }
        do {
            try runner.model.keepAlive()
        } catch {
            modelFailure = "\(error)"
        }
    }

    /// Ends every request of a failed batch with an error (KV of the batch is not trusted).
    private func fail(_ batch: ScheduledBatch, message: String) {
        for event in scheduler.postprocess(sampled: []) {
            deliver(event, overridingReason: .error(message: message))
        }
        for entry in batch.entries {
            if let event = scheduler.abort(entry.requestID) {
                deliver(event, overridingReason: .error(message: message))
            }
        }
    }

    private func record(_ batch: ScheduledBatch, _ result: StepResult, seconds: Double) {
        stats.stepCount += 1
        stats.sampledTokenCount += result.sampled.count
        if batch.isPrefill {
            stats.prefillStepCount += 1
            stats.prefillTokenCount += batch.scheduledTokenCount
        }
        stats.forwardSeconds += result.forwardSeconds
        stats.samplingSeconds += result.samplingSeconds
        stats.logitsBytes += result.logitsBytes
        rateWindow.add(
            prefillTokens: batch.isPrefill ? batch.scheduledTokenCount : 0, sampledTokens: result.sampled.count,
            stepSeconds: seconds, isPrefill: batch.isPrefill)
    }

    /// The current load snapshot.
    var load: EngineLoad {
        var load = EngineLoad()
        load.report = scheduler.load
        load.report.prefillTokensPerSecond = rateWindow.prefillRate.isFinite ? rateWindow.prefillRate : 0
        load.report.decodeTokensPerSecond = rateWindow.sampleRate.isFinite ? rateWindow.sampleRate : 0
        load.retractionTotal = scheduler.retractionTotal
        load.stats = stats
        return load
    }

    // MARK: - Events

    /// Converts a scheduler event, attaches the step's `logprobs`, forgets finished requests, and emits.
    private func deliver(
        _ event: SchedulerEvent, logprobs: [RequestID: TokenLogprobs] = [:], overridingReason: FinishReason? = nil
    ) {
        switch event {
        case .token(let id, let token, let index):
            emit(.token(requestID: id, tokenID: token, index: index, logprobs: logprobs[id]))
        case .finished(let id, let reason, let prompt, let completion, let cached):
            runner.forget(id)
            let usage = EngineUsage(promptTokenCount: prompt, completionTokenCount: completion, cachedTokenCount: cached)
            emit(.finished(requestID: id, reason: overridingReason ?? reason, usage: usage))
        }
    }
}

/// Token rates measured over the time steps actually took (idle time excluded), refreshed about
/// once per second of work. The prefill rate is what a router's cost model needs: how fast this
/// worker turns prompt tokens into KV. It is only updated from windows with enough prefill tokens
/// that fixed per-step costs do not dominate.
struct RateWindow {
    /// Fewer prefill tokens than this in a window leave the prefill rate unchanged.
    static let minimumPrefillTokens = 64
    private var prefillTokens = 0
    private var prefillSeconds = 0.0
    private var sampledTokens = 0
    private var busySeconds = 0.0
    private(set) var prefillRate = 0.0
    private(set) var sampleRate = 0.0

    mutating func add(prefillTokens prefill: Int, sampledTokens sampled: Int, stepSeconds: Double, isPrefill: Bool) {
        if isPrefill {
            prefillTokens += prefill
            prefillSeconds += stepSeconds
        }
        sampledTokens += sampled
        busySeconds += stepSeconds
        guard busySeconds >= 1 else { return }
        if prefillTokens >= Self.minimumPrefillTokens, prefillSeconds > 0 { prefillRate = Double(prefillTokens) / prefillSeconds }
        sampleRate = Double(sampledTokens) / busySeconds
        prefillTokens = 0
        prefillSeconds = 0
        sampledTokens = 0
        busySeconds = 0
    }
}
