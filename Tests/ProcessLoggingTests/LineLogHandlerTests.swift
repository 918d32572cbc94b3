import Logging
import ProcessLogging
import Testing

@Suite struct LineLogHandlerTests {
    func logger(_ sink: LineSink, level: Logger.Level = .info) -> Logger {
        Logger(label: "radixserve.router") { LineLogHandler(label: $0, level: level, sink: sink) }
    }

    @Test func oneLinePerEventWithTheProcessNameAndSortedMetadata() {
        let sink = LineSink.memory()
        var log = logger(sink)
        log[metadataKey: "worker"] = "3"
        log.info("registered", metadata: ["request": "17", "attempt": "2"])
        log.warning("dropped a malformed message")
        log.error("socket failed", metadata: ["worker": "4"])
        #expect(sink.written == [
            "radixserve router: registered attempt=2 request=17 worker=3",
            "radixserve router: warning: dropped a malformed message worker=3",
            "radixserve router: error: socket failed worker=4",
        ])
    }

    @Test func levelsBelowTheThresholdAreDropped() {
        let sink = LineSink.memory()
        let log = logger(sink, level: .notice)
        log.debug("hidden")
        log.info("hidden too")
        log.notice("shown")
        #expect(sink.written == ["radixserve router: shown"])
    }
}
