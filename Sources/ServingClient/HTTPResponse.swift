import Foundation
import ServingTypes

/// The status line and headers of an HTTP/1.1 response.
public struct HTTPResponseHead: Sendable {
    /// The status code, e.g. 200.
    public var status: Int
    /// The reason phrase, e.g. `OK` (may be empty).
    public var reason: String
    /// Header fields in arrival order, names as sent.
    public var headers: [(name: String, value: String)]

    /// The value of the header `name` (case-insensitive); repeated fields are joined with `", "`.
    public func value(for name: String) -> String? {
        let values = headers.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

    /// Whether the status is in 200...299.
    public var isSuccess: Bool { (200...299).contains(status) }
}

/// A complete HTTP response: head and body.
public struct HTTPResponse: Sendable {
    public var head: HTTPResponseHead
    public var body: Data

    public var status: Int { head.status }

    /// The body as UTF-8 text (invalid bytes replaced).
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Throws ``ServingClientError/Code/httpStatus`` unless the status is 2xx; `request` (e.g.
    /// `POST /v1/completions`) names what failed. The message carries the server's
    /// `error.message` when the body is an OpenAI-style error, else the start of the body.
    public func checked(_ request: String) throws -> HTTPResponse {
        guard !head.isSuccess else { return self }
        throw Self.error(status: head.status, reason: head.reason, body: body, request: request)
    }

    /// The error for a non-2xx response to `request`.
    static func error(status: Int, reason: String, body: Data, request: String) -> ServingClientError {
        let statusText = reason.isEmpty ? "\(status)" : "\(status) \(reason)"
        let detail = APIErrorBody.message(in: body)
        var message = "\(request) failed with HTTP \(statusText)"
        if let detail {
            message += ": \(detail)"
        } else {
            let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { message += ": \(text)" }
        }
        return ServingClientError(code: .httpStatus, message: message, status: status, serverMessage: detail)
    }
}
