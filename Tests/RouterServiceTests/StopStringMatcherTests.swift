import RouterService
import Testing

struct StopStringMatcherTests {
    /// Feeds `pieces` and returns the emitted text and the matched stop.
    func run(_ stops: [String], _ pieces: [String]) -> (String, String?) {
        var matcher = StopStringMatcher(stops)
        var output = ""
        for piece in pieces { output += matcher.append(piece) }
        output += matcher.finish()
        return (output, matcher.matched)
    }

    @Test func stopsAtTheFirstOccurrenceAndDropsTheStopString() {
        #expect(run(["END"], ["once upon E", "N", "D and more"]) == ("once upon ", "END"))
        #expect(run(["\n\n", "User:"], ["a\n", "b User", ":x\n\n"]) == ("a\nb ", "User:"))
    }

    @Test func releasesHeldTextThatDidNotBecomeAStop() {
        var matcher = StopStringMatcher(["STOP"])
        #expect(matcher.append("go ST") == "go ")
        #expect(matcher.append("ART") == "START")
        #expect(matcher.append("ST") == "")
        #expect(matcher.finish() == "ST")
        #expect(matcher.matched == nil)
    }

    @Test func earliestMatchWinsAcrossStops() {
        #expect(run(["bc", "abcd"], ["xabcd"]) == ("x", "abcd"))
        #expect(run(["cd", "b"], ["abcd"]) == ("a", "b"))
    }

    @Test func noStopsPassesEverythingThrough() {
        #expect(run([], ["a", "b"]) == ("ab", nil))
        #expect(run([""], ["a"]) == ("a", nil))
    }

    @Test func unicodeIsHeldByCharacterNotByte() {
        #expect(run(["日本"], ["こんにちは日", "本語"]) == ("こんにちは", "日本"))
    }
}
