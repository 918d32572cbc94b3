// RadixServe: the router process's parts, built from a checkpoint directory.

import Foundation
import Models
import ProcessLifecycle
import RouterCore
import RouterService
import ServiceLifecycle
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
    /// worker endpoint. `seed` seeds the dispatcher's random choices (`nil`: a random seed). With
    /// `curve` the worker socket is a CURVE server that admits only the listed worker keys.
    package init(
        modelDirectory: URL, workerEndpoint: String, pageSize: Int, hashSeed: UInt64, policy: DispatchPolicy,
        recomputeWeight: Double, heartbeat: Duration, missedHeartbeats: Int, maxAttempts: Int, seed: UInt64?,
        curve: RouterCurve? = nil
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
            missedHeartbeatLimit: missedHeartbeats, maxAttempts: maxAttempts, curveSecretKey: curve?.keyPair.secretKey,
            authorizedWorkerKeys: curve?.authorizedKeys, seed: seed ?? .random(in: 0...(.max)))
        serviceConfig.costModel.recomputeWeight = recomputeWeight
        let weight = recomputeWeight == recomputeWeight.rounded() ? "\(Int(recomputeWeight))" : "\(recomputeWeight)"
        dispatchSummary = policy == .cacheAware ? "cache-aware dispatch, recompute weight \(weight)" : "\(policy.rawValue) dispatch"
        serviceConfig.eosTokenIDs = Set((config.eosTokenIDs + tokenizer.eosTokenIDs).map { Int32(clamping: $0) })
        coordinator = RouterCoordinator(config: serviceConfig, context: context)
        try coordinator.start()
    }

    /// Waits until `count` workers are routable, or until `children` (the workers, by index from
    /// 0) has one that exited before registering.
    /// - Throws: ``RouterLaunchError`` when a worker exited first or `timeout` passed.
    package func waitForWorkers(_ count: Int, timeout: Duration, children: ChildProcessGroup? = nil) async throws {
        enum Outcome { case ready, exited(index: Int, status: Int32) }
        let outcome = await coordinator.membership.wait(until: .now.advanced(by: timeout)) { () -> Outcome? in
            if coordinator.routableWorkerCount >= count { return .ready }
            return children?.firstExited().map { Outcome.exited(index: $0.index, status: $0.status) }
        }
        switch outcome {
        case .ready?:
            return
        case .exited(let index, let status)?:
            throw RouterLaunchError(
                message: "worker \(index + 1) exited with status \(status) before registering (see its messages above)")
        case nil:
            throw RouterLaunchError(
                message: "only \(coordinator.routableWorkerCount) of \(count) workers registered within \(timeout / .milliseconds(1) / 1000) s")
        }
    }

    /// Serves HTTP until SIGINT/SIGTERM, then stops the coordinator: a service group of the
    /// signals, `first` (stopped last), the coordinator and the HTTP server (stopped first, after
    /// the requests it serves finished). `access` says which API keys may call what, `admission`
    /// how much each may use at once; with `tls` the server speaks HTTPS only. `onListening` gets
    /// the bound port (useful with port 0).
    package func serve(
        host: String, port: Int, tls: RouterTLS? = nil, access: APIAccess = .open, admission: AdmissionFlags = AdmissionFlags(),
        first: [any Service] = [], onListening: @escaping @Sendable (Int) -> Void
    ) async throws {
        let logger = coordinator.config.logger
        let server = RouterHTTPServer(coordinator: coordinator, model: model, access: access, admission: admission.gate(access: access))
        let http = server.application(host: host, port: port, tls: tls, logger: logger, onListening: onListening)
        try await ProcessServices.run(
            first + [RouterCoordinatorService(coordinator: coordinator), http], signals: ShutdownSignals(logger: logger),
            logger: logger)
    }
}

/// Shuts a started ``RouterCoordinator`` down when its service group stops: requests still in
/// flight fail, and the worker socket closes.
struct RouterCoordinatorService: Service {
    let coordinator: RouterCoordinator

    func run() async throws {
        try? await gracefulShutdown()
        coordinator.shutdown()
    }
}

/// Why a router could not start serving, printed as its message alone.
package struct RouterLaunchError: Error, CustomStringConvertible {
    /// What happened.
    package var message: String
    package var description: String { message }
}
