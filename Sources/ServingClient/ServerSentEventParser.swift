/// Incremental parser for a `text/event-stream` body, following the WHATWG "event stream
/// interpretation" rules: lines end in CRLF, LF or CR; `data:` lines accumulate (joined by LF);
/// `event:` and `id:` set fields; lines starting with `:` are comments; a blank line dispatches
/// the event if it has data; a field without a colon has an empty value; one space after the colon
/// is dropped; `retry:` and unknown fields are ignored; an unterminated event at the end is discarded.
///
/// Bytes may be fed split anywhere, including inside a UTF-8 sequence or between CR and LF.
/// Not thread-safe: one parser per stream.
package struct ServerSentEventParser {
    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var type: String?
    private var lastID: String?
    /// A CR ended the previous line; an LF right after it belongs to that line ending.
    private var isAfterCarriageReturn = false
    private var isAtStart = true

    package init() {}

    /// Consumes `bytes` and returns the events they complete, stamped with `arrival`.
    package mutating func feed(
        _ bytes: some Sequence<UInt8>, arrival: ContinuousClock.Instant = .now
    ) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if isAfterCarriageReturn {
                isAfterCarriageReturn = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            switch byte {
            case UInt8(ascii: "\n"):
                if let event = endLine(arrival: arrival) { events.append(event) }
            case UInt8(ascii: "\r"):
                isAfterCarriageReturn = true
                if let event = endLine(arrival: arrival) { events.append(event) }
            default:
                line.append(byte)
            }
        }
        return events
    }

    private mutating func endLine(arrival: ContinuousClock.Instant) -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if isAtStart {
            isAtStart = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        }
        if line.isEmpty { return dispatch(arrival: arrival) }
        if line.first == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let field = String(decoding: line[..<(colon ?? line.endIndex)], as: UTF8.self)
        var valueStart = colon.map { $0 + 1 } ?? line.endIndex
        if valueStart < line.endIndex && line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let value = line[valueStart...]
        switch field {
        case "data":
            if hasData { data.append(UInt8(ascii: "\n")) }
            data.append(contentsOf: value)
            hasData = true
        case "event":
            type = String(decoding: value, as: UTF8.self)
        case "id":
            if !value.contains(0) { lastID = String(decoding: value, as: UTF8.self) }
        default:
            break
        }
        return nil
    }

    private mutating func dispatch(arrival: ContinuousClock.Instant) -> ServerSentEvent? {
        defer {
            data.removeAll(keepingCapacity: true)
            hasData = false
            type = nil
        }
        guard hasData else { return nil }
        return ServerSentEvent(type: type, data: String(decoding: data, as: UTF8.self), id: lastID, arrival: arrival)
    }
}
