// RadixServe: the conformance checks of the cache as a whole: flush, and the run-wide event checks.

import ServingTypes
import WireProtocol

extension WorkerConformance {
    /// `flush`: with nothing running, `flushCache` empties the cache: the events say so, the
    /// heartbeats say so, and the generate prompt is computed afresh.
    func checkFlush() {
        guard begin(.flush), replay != nil else { return }
        guard wait(until: { requests.values.allSatisfy(\.isDone) }) else {
            return report.fail(.flush, "requests still running \(options.timeout) after the last check")
        }
        let heldBefore = replay!.held.count
        let batches = replay!.batchCount
        send(.flushCache)
        if heldBefore > 0 {
            guard wait(until: { replay!.batchCount > batches && replay!.held.isEmpty }) else {
                return report.fail(.flush, """
                    \(replay!.held.count) of \(heldBefore) pages still held \(options.timeout) after flushCache \
                    (expected a batch with cleared, or removed for every page)
                    """)
            }
        } else {
            listen(for: .milliseconds(300))
        }
        let heartbeatCount = heartbeats.count
        let window = max(Duration.seconds(1), .milliseconds(5 * Int(options.heartbeatMilliseconds)))
        guard wait(window, until: { heartbeats[heartbeatCount...].contains { $0.heartbeat.load.cachedPages == 0 } }) else {
            let reported = heartbeats[heartbeatCount...].map { String($0.heartbeat.load.cachedPages) }.joined(separator: ", ")
            return report.fail(.flush, "heartbeats in \(window) after the flush report cachedPages [\(reported)], expected 0")
        }
        guard let again = runRequest(generatePrompt, greedy(maxTokens: 1), for: .flush) else { return }
        expectFinish(again, .length, completionTokens: 1, for: .flush)
        if let cached = again.finish?.cachedTokens, cached != 0 {
            report.fail(.flush, "the generate prompt after the flush reports cachedTokens \(cached), expected 0")
        }
        report.pass(.flush, "\(heldBefore) pages flushed; a heartbeat reports cachedPages 0; the generate prompt then has cachedTokens 0")
    }

    /// Ends the checks that span the run: the cache events (stored pages the kit could not match
    /// when they arrived are matched now), and skips for everything after a failed registration.
    func finishRunWideChecks(isUsable: Bool) {
        guard isUsable, var replay else {
            for check in ConformanceCheck.allCases where check != .registration {
                report.skip(check, "no usable registration (see registration)")
            }
            return
        }
        replay.finish()
        self.replay = replay
        for problem in replay.problems { report.fail(.kvEvents, problem) }
        report.pass(.kvEvents, """
            \(replay.batchCount) batches in sequence, \(replay.verifiedPageCount) stored pages matched to the kit's \
            token sequences; heartbeats and snapshots carried the last batch's sequence
            """)
    }
}
