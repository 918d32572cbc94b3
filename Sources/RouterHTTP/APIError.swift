// RadixServe: OpenAI-style error responses.

import Foundation
import HTTPTypes
import Hummingbird

/// An error a handler returns to the client as `{"error": {message, type, param, code}}`.
package struct APIError: Error, Sendable, CustomStringConvertible {
    package var status: HTTPResponse.Status
    package var message: String
    package var type: String
    package var param: String?
    package var code: String?

    package init(_ status: HTTPResponse.Status, _ message: String, type: String? = nil, param: String? = nil, code: String? = nil) {
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
    package var body: ErrorBody { ErrorBody(error: .init(message: message, type: type, param: param, code: code)) }

    /// The full response.
    package var response: Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONBody.encode(body))))
    }

    /// The body shape.
    package struct ErrorBody: Codable, Sendable {
        package struct Detail: Codable, Sendable {
            package var message: String
            package var type: String
            package var param: String?
            package var code: String?

            package func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(message, forKey: .message)
                try container.encode(type, forKey: .type)
                try container.encode(param, forKey: .param)  // explicit null, as OpenAI does
                try container.encode(code, forKey: .code)
            }
        }
        package var error: Detail
    }
}
