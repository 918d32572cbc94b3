// RadixServe: the router's HTTP server (Hummingbird).

import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RouterService
import Logging
import ServiceLifecycle

/// The OpenAI-compatible and operator endpoints in front of a ``RouterCoordinator``.
package struct RouterHTTPServer: Sendable {
    package let coordinator: RouterCoordinator
    package let model: ServedModel
    /// Who may call which endpoint (``APIAccess/open``: everyone).
    package let access: APIAccess
    /// Per-key limits and the priority queue every generation request passes.
    package let admission: AdmissionGate
    let driver: GenerationDriver

    package init(coordinator: RouterCoordinator, model: ServedModel, access: APIAccess = .open, admission: AdmissionGate? = nil) {
        self.coordinator = coordinator
        self.model = model
        self.access = access
        self.admission = admission ?? .unlimited(knownKeys: access.userKeys.map(\.name))
        driver = GenerationDriver(coordinator: coordinator, model: model)
    }

    /// The routes, behind the API-key check when keys are configured.
    package func makeRouter() -> Router<RouterRequestContext> {
        let router = Router(context: RouterRequestContext.self)
        if access.isProtected { router.add(middleware: APIKeyMiddleware(access: access, logger: coordinator.config.logger)) }
        router.post("/v1/completions") { request, context in await Self.responding { try await completions(request, context) } }
        router.post("/v1/chat/completions") { request, context in
            await Self.responding { try await chatCompletions(request, context) }
        }
        router.post("/generate") { request, context in await Self.responding { try await generate(request, context) } }
        router.get("/v1/models") { _, _ in models() }
        router.get("/health") { _, _ in health() }
        router.get("/metrics") { _, _ in metrics() }
        router.get("/workers") { _, _ in listWorkers() }
        router.post("/workers") { request, _ in await Self.responding { try await addWorker(request) } }
        router.delete("/workers/:id") { _, context in removeWorker(id: context.parameters.get("id")) }
        router.post("/flush_cache") { _, _ in flushCache() }
        return router
    }

    /// The server on `host:port` as a service that, on graceful shutdown, stops accepting and
    /// finishes the requests it serves; `onListening` gets the bound port (useful with port 0).
    /// With `tls` it serves HTTPS only.
    package func application(
        host: String, port: Int, tls: RouterTLS? = nil, logger: Logger, onListening: @escaping @Sendable (Int) -> Void
    ) -> some Service {
        Application(
            router: makeRouter(), server: tls?.server ?? .http1(),
            configuration: .init(address: .hostname(host, port: port), serverName: "radixserve"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// The handler's response, or its error as an OpenAI-style error body (``APIError`` as is,
    /// anything else as a 500).
    static func responding(_ handler: () async throws -> Response) async -> Response {
        do {
            return try await handler()
        } catch let error as APIError {
            return error.response
        } catch {
            return APIError(.internalServerError, "\(error)").response
        }
    }

    /// A Server-Sent Events response whose body `produce` writes; `data: [DONE]` is appended, and
    /// an ``APIError`` raised mid-stream is sent as an error event first.
    static func eventStream(_ produce: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            do {
                try await produce(&writer)
            } catch let error as APIError {
                try await writer.write(JSONBody.event(error.body))
            }
            try await writer.write(JSONBody.done)
            try await writer.finish(nil)
        })
    }
}
