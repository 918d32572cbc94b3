import Foundation

/// Reads one HTTP/1.1 response from a connection: the head, then the body in pieces as the bytes
/// arrive, undoing `Transfer-Encoding: chunked` or counting down `Content-Length`; without either,
/// the body runs until the server closes the connection.
///
/// A connection that ends before the framing says the body is complete throws
/// ``ServingClientError/Code/connectionClosed``; each wait for bytes is bounded by `timeout`.
/// Not thread-safe.
package struct ResponseReader {
    private enum Framing {
        case none
        case length(remaining: Int)
        /// Inside a chunk with `remaining` data bytes left; at 0 the chunk's CRLF comes next.
        case chunkData(remaining: Int)
        case chunkSize
        case untilClose
        case finished
    }

    /// Longest status, header or chunk-size line accepted.
    static let maximumLineLength = 64 * 1024

    private let connection: SocketConnection
    private let timeout: Duration
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var framing = Framing.none
    /// `"POST /v1/completions"`, for messages.
    private let request: String

    package init(connection: SocketConnection, timeout: Duration, request: String) {
        self.connection = connection
        self.timeout = timeout
        self.request = request
    }

    /// Reads the status line and headers, skipping interim 1xx responses, and sets up the body's framing.
    package mutating func readHead(isHeadRequest: Bool = false) throws -> HTTPResponseHead {
        while true {
            guard let statusLine = try readLine() else {
                throw ServingClientError.connectionClosed(
                    "\(connection.url) closed the connection without answering \(request)")
            }
            let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...999).contains(status)
            else { throw malformed("bad status line '\(statusLine.prefix(100))'") }
            var head = HTTPResponseHead(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: [])
            while true {
                guard let line = try readLine() else { throw closedEarly("in the headers") }
                if line.isEmpty { break }
                guard let colon = line.firstIndex(of: ":") else { throw malformed("bad header line '\(line.prefix(100))'") }
                head.headers.append(
                    (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            if (100...199).contains(status) { continue }
            framing = try Self.framing(of: head, isHeadRequest: isHeadRequest)
            return head
        }
    }

    /// The next body bytes that have arrived, or nil once the body is complete.
    package mutating func nextBodyPiece() throws -> ArraySlice<UInt8>? {
        while true {
            switch framing {
            case .none, .finished:
                framing = .finished
                return nil
            case .length(let remaining):
                if remaining == 0 {
                    framing = .finished
                    return nil
                }
                guard let piece = try take(upTo: remaining) else { throw closedEarly("in the body") }
                framing = .length(remaining: remaining - piece.count)
                return piece
            case .untilClose:
                guard let piece = try take(upTo: Int.max) else {
                    framing = .finished
                    return nil
                }
                return piece
            case .chunkSize:
                guard let line = try readLine() else { throw closedEarly("before a chunk") }
                let digits = line.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces)
                guard let size = Int(digits, radix: 16), size >= 0 else {
                    throw malformed("bad chunk size '\(line.prefix(40))'")
                }
                if size == 0 {
                    while let trailer = try readLine(), !trailer.isEmpty {}
                    framing = .finished
                    return nil
                }
                framing = .chunkData(remaining: size)
            case .chunkData(let remaining):
                if remaining == 0 {
                    guard let end = try readLine() else { throw closedEarly("after a chunk") }
                    guard end.isEmpty else { throw malformed("chunk data longer than its size") }
                    framing = .chunkSize
                    continue
                }
                guard let piece = try take(upTo: remaining) else { throw closedEarly("inside a chunk") }
                framing = .chunkData(remaining: remaining - piece.count)
                return piece
            }
        }
    }

    /// Reads the rest of the body into one array.
    package mutating func readBody() throws -> [UInt8] {
        var body: [UInt8] = []
        while let piece = try nextBodyPiece() { body.append(contentsOf: piece) }
        return body
    }

    // MARK: - Private

    private static func framing(of head: HTTPResponseHead, isHeadRequest: Bool) throws -> Framing {
        if isHeadRequest || head.status == 204 || head.status == 304 { return .none }
        if let encoding = head.value(for: "Transfer-Encoding") {
            let last = encoding.split(separator: ",").last?.trimmingCharacters(in: .whitespaces).lowercased()
            return last == "chunked" ? .chunkSize : .untilClose
        }
        if let length = head.value(for: "Content-Length") {
            guard let count = Int(length.trimmingCharacters(in: .whitespaces)), count >= 0 else {
                throw ServingClientError.malformedResponse("bad Content-Length '\(length)'")
            }
            return .length(remaining: count)
        }
        return .untilClose
    }

    /// Up to `limit` buffered bytes, receiving first if none are buffered; nil at end of stream.
    private mutating func take(upTo limit: Int) throws -> ArraySlice<UInt8>? {
        if readIndex == buffer.count, try !receive() { return nil }
        let end = readIndex + min(limit, buffer.count - readIndex)
        defer { readIndex = end }
        return buffer[readIndex..<end]
    }

    /// One line without its CRLF (or bare LF), or nil if the stream ended before any byte of it.
    private mutating func readLine() throws -> String? {
        var searchFrom = readIndex
        while true {
            if let newline = buffer[searchFrom...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > readIndex && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = String(decoding: buffer[readIndex..<end], as: UTF8.self)
                readIndex = newline + 1
                return line
            }
            let scanned = buffer.count - readIndex
            guard scanned <= Self.maximumLineLength else { throw malformed("a line longer than 64 KiB") }
            guard try receive() else {
                if scanned == 0 { return nil }
                throw closedEarly("mid-line")
            }
            searchFrom = readIndex + scanned
        }
    }

    /// Appends newly arrived bytes to the buffer (dropping consumed ones first); false at end of stream.
    private mutating func receive() throws -> Bool {
        if readIndex > 0 {
            let consumed = readIndex
            buffer.removeFirst(consumed)
            readIndex = 0
        }
        let chunk = 16 * 1024
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: chunk))
        let count = try buffer.withUnsafeMutableBytes { bytes in
            try connection.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[start...]), timeout: timeout)
        }
        buffer.removeLast(chunk - count)
        return count > 0
    }

    private func malformed(_ problem: String) -> ServingClientError {
        .malformedResponse("malformed HTTP response from \(connection.url) to \(request): \(problem)")
    }

    private func closedEarly(_ place: String) -> ServingClientError {
        .connectionClosed("\(connection.url) closed the connection \(place) of the response to \(request)")
    }
}
