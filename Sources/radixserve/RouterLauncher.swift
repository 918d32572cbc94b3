import Foundation
import Engine
import Models
import RouterCore
import RouterHTTP
import RouterService
import Tokenizers
import Transport

/// Builds and runs the router process's parts: the model description the HTTP layer needs,
/// the coordinator bound to the worker endpoint, and the HTTP server. Shared by `router` and `up`.
struct RouterLauncher {
    let model: ServedModel
    let coordinator: RouterCoordinator
    let context: ZMQContext
    /// How requests are dispatched, for the start-up line: the policy, and for `cache-aware` its
    /// recompute weight (e.g. "cache-aware dispatch, recompute weight 2").
    let dispatchSummary: String

    /// Reads the checkpoint's tokenizer, chat template and config (no weights), and binds the
    /// worker endpoint.
    init(
        modelDirectory: URL, workerEndpoint: String, pageSize: Int, hashSeed: UInt64, policy: DispatchPolicy,
        recomputeWeight: Double, heartbeat: Duration, missedHeartbeats: Int, maxAttempts: Int, seed: UInt64?
    ) throws {
        let config = try ModelConfig.load(directory: modelDirectory)
        let tokenizer = try AutoTokenizer.load(directory: modelDirectory)
        let checkpoint = try Checkpoint(directory: modelDirectory)
        let fingerprint = try ModelFingerprint.compute(directory: modelDirectory, checkpoint: checkpoint)
        let modelID = modelDirectory.standardizedFileURL.lastPathComponent
        model = ServedModel(
            id: modelID, tokenizer: tokenizer, chatPrompt: try ChatPromptBuilder(directory: modelDirectory, tokenizer: tokenizer),
            maxModelLength: config.maxPositionEmbeddings, vocabularySize: config.vocabularySize,
            created: Int(Date().timeIntervalSince1970))
        context = try ZMQContext(ioThreadCount: 1)
        var serviceConfig = RouterServiceConfig(
            workerEndpoint: workerEndpoint, modelID: modelID, modelFingerprint: fingerprint, pageSize: pageSize,
            hashSeed: hashSeed, maxModelLength: config.maxPositionEmbeddings, policy: policy, heartbeatInterval: heartbeat,
            missedHeartbeatLimit: missedHeartbeats, maxAttempts: maxAttempts, seed: seed ?? .random(in: 0...(.max)))
        serviceConfig.costModel.recomputeWeight = recomputeWeight
        let weight = recomputeWeight == recomputeWeight.rounded() ? "\(Int(recomputeWeight))" : "\(recomputeWeight)"
        dispatchSummary = policy == .cacheAware ? "cache-aware dispatch, recompute weight \(weight)" : "\(policy.rawValue) dispatch"
        serviceConfig.eosTokenIDs = Set((config.eosTokenIDs + tokenizer.eosTokenIDs).map { Int32(clamping: $0) })
        coordinator = RouterCoordinator(config: serviceConfig, context: context)
        try coordinator.start()
    }

    /// Serves HTTP until SIGINT/SIGTERM, then stops the coordinator.
    func serve(host: String, port: Int, onListening: @escaping @Sendable (Int) -> Void) async throws {
        defer { coordinator.shutdown() }
        try await RouterHTTPServer(coordinator: coordinator, model: model).run(host: host, port: port, onListening: onListening)
    }
}
