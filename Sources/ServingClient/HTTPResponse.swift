import Foundation
import NIOHTTP1
import ServingTypes

/// A complete HTTP response: status, headers and body.
public struct HTTPResponse: Sendable {
    /// The status code, e.g. 200.
    public var status: Int
    /// The reason phrase, e.g. `OK`.
    public var reason: String
    /// Header fields in arrival order, names as sent.
    public var headers: [(name: String, value: String)]
    public var body: Data

    public init(status: Int, reason: String, headers: [(name: String, value: String)], body: Data) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    init(head: HTTPResponseHead, body: Data) {
        self.init(
            status: Int(head.status.code), reason: head.status.reasonPhrase, headers: head.headers.map { ($0.name, $0.value) },
            body: body)
    }

    /// The value of the header `name` (case-insensitive); repeated fields are joined with `", "`.
    public func value(for name: String) -> String? {
        let values = headers.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

    /// Whether the status is in 200...299.
    public var isSuccess: Bool { (200...299).contains(status) }

    /// The body as UTF-8 text (invalid bytes replaced).
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Throws ``ServingClientError/Code/httpStatus`` unless the status is 2xx; `request` (e.g.
    /// `POST /v1/completions`) names what failed. The message carries the server's
    /// `error.message` when the body is an OpenAI-style error, else the start of the body.
    public func checked(_ request: String) throws -> HTTPResponse {
        guard !isSuccess else { return self }
        throw error(request)
    }

    /// The error for this non-2xx response to `request`.
    func error(_ request: String) -> ServingClientError {
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
