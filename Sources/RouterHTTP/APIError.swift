// RadixServe: OpenAI-style error responses.

import Foundation
import HTTPTypes
import Hummingbird
import ServingTypes

/// An error a handler returns to the client as `{"error": {message, type, param, code}}`.
package struct APIError: Error, Sendable, CustomStringConvertible {
    package var status: HTTPResponse.Status
    package var message: String
    package var type: String
    package var param: String?
    package var code: String?
    /// Sent as `Retry-After` (seconds) when set.
    package var retryAfterSeconds: Int?

    package init(
        _ status: HTTPResponse.Status, _ message: String, type: String? = nil, param: String? = nil, code: String? = nil,
        retryAfterSeconds: Int? = nil
    ) {
        self.retryAfterSeconds = retryAfterSeconds
        self.status = status
        self.message = message
        self.type = type ?? Self.defaultType(for: status)
        self.param = param
        self.code = code
    }

    package var description: String { "\(status.code) \(message)" }

    /// A 400 naming the offending parameter.
    package static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(.badRequest, message, param: param, code: code)
    }

    private static func defaultType(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400, 413, 422: "invalid_request_error"
        case 404: "not_found_error"
        case 429: "rate_limit_error"
        case 503: "service_unavailable_error"
        default: status.code >= 500 ? "server_error" : "invalid_request_error"
        }
    }

    /// The JSON body.
    package var body: APIErrorBody { APIErrorBody(error: .init(message: message, type: type, param: param, code: code)) }

    /// The full response.
    package var response: Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let retryAfterSeconds { headers[.retryAfter] = "\(retryAfterSeconds)" }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONBody.encode(body))))
    }
}
