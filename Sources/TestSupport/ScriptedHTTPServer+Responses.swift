import Foundation

/// Byte builders for scripted responses.
extension ScriptedHTTPServer {
    /// A complete response with `Content-Length` (or, with `isChunked`, one chunk and the last chunk).
    public static func response(
        status: Int = 200, reason: String = "OK", contentType: String = "application/json", body: String,
        isChunked: Bool = false
    ) -> [UInt8] {
        let payload = Array(body.utf8)
        let framing = isChunked ? "Transfer-Encoding: chunked" : "Content-Length: \(payload.count)"
        let head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(contentType)\r\n\(framing)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + (isChunked ? chunk(payload) + lastChunk : payload)
    }

    /// An OpenAI-style error response.
    public static func errorResponse(status: Int, reason: String, message: String, type: String) -> [UInt8] {
        let body = #"{"error":{"message":"\#(message)","type":"\#(type)","param":null,"code":null}}"#
        return response(status: status, reason: reason, body: body)
    }

    /// The head of a `text/event-stream` response, chunked or ending at connection close.
    public static func eventStreamHead(isChunked: Bool = true) -> [UInt8] {
        let framing = isChunked ? "Transfer-Encoding: chunked\r\n" : ""
        return Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\(framing)Cache-Control: no-cache\r\n\r\n".utf8)
    }

    /// `bytes` as one chunk of a chunked body.
    public static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10]
    }

    /// The terminating zero-size chunk.
    public static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    /// `data: JSON\n\n` for each of `events`, then `data: [DONE]\n\n`.
    public static func events(_ events: [String]) -> [UInt8] {
        Array((events.map { "data: \($0)\n\n" } + ["data: [DONE]\n\n"]).joined().utf8)
    }
}
