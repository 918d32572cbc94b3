// RadixServe: the worker's HTTP endpoint for Prometheus and health probes.

import Engine
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `GET /metrics` (``WorkerMetrics`` of the engine's latest load) and `GET /health` (200 while the
/// worker is registered with its router, 503 otherwise: a readiness probe) on `--metrics-port`,
/// as a service of the worker's group.
struct WorkerMetricsServer {
    let endpoint: WorkerEndpoint
    let engine: EngineLoop
    let metrics: WorkerMetrics

    /// The server on `host:port`; `onListening` gets the bound port (useful with port 0).
    func application(host: String, port: Int, logger: Logger, onListening: @escaping @Sendable (Int) -> Void) -> some Service {
        let router = Router()
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            let text = metrics.render(engine.load, isRegistered: isRegistered)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/health") { _, _ in
            Response(
                status: isRegistered ? .ok : .serviceUnavailable,
                body: ResponseBody(byteBuffer: ByteBuffer(string: isRegistered ? "ok\n" : "not registered\n")))
        }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "radixserve-worker"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) }, logger: logger)
    }

    /// Registered and not draining: the router may route here.
    private var isRegistered: Bool {
        guard case .registered = endpoint.state else { return false }
        return endpoint.requestedDrain == nil
    }
}
