@testable import ServingClient
import Testing

@Suite struct ServerSentEventParserTests {
    private func parse(_ text: String) -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        return parser.feed(Array(text.utf8))
    }

    @Test func dispatchesOnBlankLinesAndJoinsDataLines() {
        let events = parse("data: one\n\ndata: two\ndata:  three\n\n")
        #expect(events == [ServerSentEvent(data: "one"), ServerSentEvent(data: "two\n three")])
    }

    @Test func skipsCommentsAndUnknownFieldsAndKeepsEventAndID() {
        let events = parse(": keep-alive\n\nretry: 10\nevent: update\nid: 7\nfoo: bar\ndata: x\n\ndata: y\n\n")
        #expect(events.count == 2)
        #expect(events[0] == ServerSentEvent(type: "update", data: "x", id: "7"))
        // The id persists; the event type does not.
        #expect(events[1] == ServerSentEvent(type: nil, data: "y", id: "7"))
    }

    @Test func acceptsCRLFAndCRLineEndingsAndFieldsWithoutColon() {
        #expect(parse("data: a\r\n\r\ndata: b\r\rdata\n\n") == [
            ServerSentEvent(data: "a"), ServerSentEvent(data: "b"), ServerSentEvent(data: ""),
        ])
    }

    @Test func emptyEventsAndAnUnterminatedTailAreNotDispatched() {
        #expect(parse("\n\nevent: x\n\n: only a comment\n\ndata: partial\n").isEmpty)
    }

    @Test func dropsALeadingByteOrderMark() {
        #expect(parse("\u{FEFF}data: [DONE]\n\n") == [ServerSentEvent(data: "[DONE]")])
        #expect(parse("\u{FEFF}data: [DONE]\n\n").first?.isDone == true)
    }

    /// Every split point of a stream with CRLF pairs and multi-byte UTF-8 yields the same events.
    @Test func givesTheSameEventsWhateverTheByteBoundaries() {
        let text = "data: {\"text\":\"héllo wörld ✓\"}\r\n\r\n: c\r\ndata: 二\r\ndata: 三\r\n\r\ndata: [DONE]\r\n\r\n"
        let bytes = Array(text.utf8)
        let whole = parse(text)
        #expect(whole.count == 3)
        #expect(whole[0].data == "{\"text\":\"héllo wörld ✓\"}")
        #expect(whole[1].data == "二\n三")
        for first in 0...bytes.count {
            for second in first...bytes.count where second == first || second == bytes.count || (second - first) % 7 == 0 {
                var parser = ServerSentEventParser()
                let events = parser.feed(bytes[..<first]) + parser.feed(bytes[first..<second]) + parser.feed(bytes[second...])
                #expect(events == whole, "split at \(first), \(second)")
            }
        }
        var byteByByte = ServerSentEventParser()
        #expect(bytes.flatMap { byteByByte.feed([$0]) } == whole)
    }

    @Test func stampsEventsWithTheArrivalOfTheBytesThatCompletedThem() {
        var parser = ServerSentEventParser()
        let early = ContinuousClock.now
        let late = early + .seconds(1)
        #expect(parser.feed(Array("data: a\n".utf8), arrival: early).isEmpty)
        let events = parser.feed(Array("\ndata: b\n\n".utf8), arrival: late)
        #expect(events.map(\.arrival) == [late, late])
    }
}
