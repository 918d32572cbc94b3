// RadixServe: the HTTP middleware that enforces APIAccess.

import HTTPTypes
import Hummingbird
import Logging

/// Answers 401 (with `WWW-Authenticate: Bearer`) or 403 before any handler runs, with an
/// OpenAI-shaped error body, unless ``APIAccess`` allows the request; an allowed request carries
/// its key's name on in ``RouterRequestContext/apiKeyName``.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = RouterRequestContext
    let access: APIAccess
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch access.decide(path: request.uri.path, authorization: request.headers[.authorization]) {
        case .allowed(let key):
            var context = context
            context.apiKeyName = key
            return try await next(request, context)
        case .unauthorized(let message):
            logger.notice("refused \(request.method) \(request.uri.path): \(message)")
            var response = APIError(.unauthorized, message, type: "invalid_request_error", code: "invalid_api_key").response
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        case .forbidden(let message):
            logger.notice("refused \(request.method) \(request.uri.path): \(message)")
            return APIError(.forbidden, message, type: "permission_error", code: "insufficient_permissions").response
        }
    }
}
