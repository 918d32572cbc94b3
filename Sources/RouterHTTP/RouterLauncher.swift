// RadixServe: the router process's parts, built from a checkpoint directory.

import Foundation
import Models
import RouterCore
import RouterService
import Tokenizers
import Transport

/// Builds and runs the router process's parts: the model description the HTTP layer needs,
/// the coordinator bound to the worker endpoint, and the HTTP server. Shared by `router` and `up`.
package struct RouterLauncher: Sendable {
    /// What the HTTP layer serves: the model's id, tokenizer, chat template and limits.
    package let model: ServedModel
    /// The coordinator, started and bound to the worker endpoint.
    package let coordinator: RouterCoordinator
    let context: ZMQContext
    /// How requests are dispatched, for the start-up line: the policy, and for `cache-aware` its
    /// recompute weight (e.g. "cache-aware dispatch, recompute weight 2").
    package let dispatchSummary: String

    /// Reads the checkpoint's tokenizer, chat template and config (no weights), and binds the
    /// worker endpoint. `seed` seeds the dispatcher's random choices (`nil`: a random seed).
    package init(
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

    /// Waits until `count` workers are routable. Every 50 ms until `timeout`, `exited` may name a
    /// worker (by index from 0) that ended before registering, with its exit status.
    /// - Throws: ``RouterLaunchError`` when a worker exited first or the time ran out.
    package func waitForWorkers(
        _ count: Int, timeout: Duration, exited: () -> (index: Int, status: Int32)? = { nil }
    ) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while coordinator.routableWorkerCount < count {
            if let exited = exited() {
                throw RouterLaunchError(
                    message: "worker \(exited.index + 1) exited with status \(exited.status) before registering (see its messages above)")
            }
            guard ContinuousClock.now < deadline else {
                let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18
                throw RouterLaunchError(
                    message: "only \(coordinator.routableWorkerCount) of \(count) workers registered within \(seconds) s")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Serves HTTP until SIGINT/SIGTERM, then stops the coordinator.
    package func serve(host: String, port: Int, onListening: @escaping @Sendable (Int) -> Void) async throws {
        defer { coordinator.shutdown() }
        try await RouterHTTPServer(coordinator: coordinator, model: model).run(host: host, port: port, onListening: onListening)
    }
}

/// Why a router could not start serving, printed as its message alone.
package struct RouterLaunchError: Error, CustomStringConvertible {
    /// What happened.
    package var message: String
    package var description: String { message }
}
