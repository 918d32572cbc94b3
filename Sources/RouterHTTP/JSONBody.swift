// RadixServe: request bodies in, JSON out, with errors that name the field.

import Foundation
import HTTPTypes
import Hummingbird

/// JSON helpers shared by the handlers.
package enum JSONBody {
    /// Largest request body accepted.
    package static let maxBytes = 32 << 20

    /// Reads and decodes the request body.
    /// - Throws: ``APIError`` 400 for malformed JSON or a field of the wrong type (naming it),
    ///   413 when the body is too large.
    package static func decode<T: Decodable>(_ type: T.Type, from request: inout Request) async throws(APIError) -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBytes)
        } catch {
            throw APIError(.contentTooLarge, "the request body is larger than \(maxBytes) bytes", code: "body_too_large")
        }
        return try decode(type, from: Data(buffer.readableBytesView))
    }

    /// Reads the request body.
    /// - Throws: ``APIError`` 413 when the body is too large.
    package static func read(_ request: inout Request) async throws(APIError) -> Data {
        do {
            return Data(try await request.collectBody(upTo: maxBytes).readableBytesView)
        } catch {
            throw APIError(.contentTooLarge, "the request body is larger than \(maxBytes) bytes", code: "body_too_large")
        }
    }

    /// Decodes `data`, mapping decoding failures to 400s.
    package static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(APIError) -> T {
        if data.isEmpty { throw APIError.invalid("the request body is empty; expected a JSON object") }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as APIError {
            throw error
        } catch let error as DecodingError {
            throw describe(error)
        } catch {
            throw APIError.invalid("invalid JSON body: \(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> APIError {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            let detail = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return APIError.invalid("the request body is not valid JSON" + (detail.map { ": \($0)" } ?? ""), code: "invalid_json")
        case .typeMismatch(_, let context) where context.codingPath.isEmpty, .valueNotFound(_, let context) where context.codingPath.isEmpty:
            // Valid JSON, but an array, a string, a number or null: there is no field to name.
            return APIError.invalid("the request body must be a JSON object")
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            return APIError.invalid("invalid value for '\(field)': \(context.debugDescription)", param: field)
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return APIError.invalid("missing required parameter '\(field)'", param: field, code: "missing_required_parameter")
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            return APIError.invalid("'\(field)' has the wrong type: expected \(typeName(type))", param: field)
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            return APIError.invalid("'\(field)' must not be null (expected \(typeName(type)))", param: field)
        @unknown default:
            return APIError.invalid("invalid JSON body: \(error)")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int32.Type, is UInt64.Type, is UInt32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        default: "\(type)".hasPrefix("Array") ? "an array" : "an object"
        }
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    /// Encodes a value (the types here always encode).
    package static func encode(_ value: some Encodable) -> [UInt8] {
        (try? Array(encoder.encode(value))) ?? Array(#"{"error":{"message":"response encoding failed"}}"#.utf8)
    }

    /// A JSON response.
    package static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: encode(value))))
    }

    /// One Server-Sent Events frame carrying `value`.
    package static func event(_ value: some Encodable) -> ByteBuffer {
        var bytes = Array("data: ".utf8)
        bytes += encode(value)
        bytes += Array("\n\n".utf8)
        return ByteBuffer(bytes: bytes)
    }

    /// The stream terminator OpenAI clients expect.
    package static let done = ByteBuffer(string: "data: [DONE]\n\n")
}
