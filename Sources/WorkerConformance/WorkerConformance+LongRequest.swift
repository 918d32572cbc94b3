// RadixServe: the conformance checks around one long request: load, duplicate ids, aborts.

import ServingTypes
import WireProtocol

extension WorkerConformance {
    /// Submits a greedy request as long as the model allows (EOS ignored), which the kit ends
    /// with an abort.
    func submitLongRequest(seed: UInt64, for check: ConformanceCheck) -> UInt64 {
        let prompt = prompt(length: pageSize + 3, seed: seed)
        return submit(prompt, greedy(maxTokens: Int(registration!.maxModelLength) - prompt.count), for: check)
    }

    /// `duplicate-request`, `load-while-running` and `abort`, in that order, on one long request.
    func checkLongRequest() {
        let checks: [ConformanceCheck] = [.loadWhileRunning, .duplicateRequest, .abort]
        guard !checks.map({ begin($0) }).contains(false) else { return }
        let id = submitLongRequest(seed: 2, for: .abort)
        guard wait(until: { !requests[id]!.tokens.isEmpty || requests[id]!.isDone }) else {
            report.skip(.loadWhileRunning, "the long request sent no tokens")
            report.skip(.duplicateRequest, "the long request sent no tokens")
            return report.fail(.abort, "long request \(id) (maxTokens \(requests[id]!.params.maxTokens)): no tokens within \(options.timeout)")
        }
        guard !requests[id]!.isDone else {
            let why = "the long request \(id) \(requests[id]!.outcome)"
            report.skip(.loadWhileRunning, why)
            report.skip(.duplicateRequest, why)
            return checkAbortBeforeTokens(after: why)
        }
        guard probeDuplicate(of: id) else { return checkAbortBeforeTokens(after: "the long request ended before the duplicate probe") }
        checkLoad(during: id)
        checkAbort(of: id)
    }

    /// Sends a second `submit` with `id`: it must get `failed` code 4. Returns whether the long
    /// request still runs.
    private func probeDuplicate(of id: UInt64) -> Bool {
        current = .duplicateRequest
        let record = requests[id]!
        requests[id]!.isProbedForDuplicates = true
        send(.submit(WorkerSubmit(requestID: id, tokenIDs: record.prompt, params: record.params)))
        wait { !requests[id]!.duplicateFailures.isEmpty || requests[id]!.isDone }
        if let code = requests[id]!.duplicateFailures.first {
            if code == .duplicateRequest {
                report.pass(.duplicateRequest, "a second submit of running request \(id) got failed code 4")
            } else {
                report.fail(.duplicateRequest, "a second submit of running request \(id) got failed code \(code.rawValue) \(code), expected 4")
            }
        } else if requests[id]!.isDone {
            // It ended before the probe reached the worker, which may run the probe as a new
            // request: stop that, and ignore what it sends.
            requests[id]!.isIgnoringAnswers = true
            send(.abort(requestID: id))
            report.skip(.duplicateRequest, "request \(id) \(requests[id]!.outcome) before its duplicate reached the worker")
            report.skip(.loadWhileRunning, "request \(id) ended before a heartbeat came")
            return false
        } else {
            report.fail(.duplicateRequest, "a second submit of running request \(id): no failed code 4 within \(options.timeout)")
        }
        return true
    }

    /// A heartbeat while `id` streams counts it as running or waiting.
    private func checkLoad(during id: UInt64) {
        current = .loadWhileRunning
        let first = heartbeats.count
        func busy() -> HeartbeatRecord? {
            heartbeats[first...].first { $0.heartbeat.load.runningCount + $0.heartbeat.load.waitingCount >= 1 }
        }
        let window = max(Duration.seconds(1), .milliseconds(5 * Int(options.heartbeatMilliseconds)))
        wait(window) { busy() != nil || requests[id]!.isDone }
        if let busy = busy()?.heartbeat.load {
            report.pass(.loadWhileRunning, "a heartbeat during request \(id): runningCount \(busy.runningCount), waitingCount \(busy.waitingCount)")
        } else if requests[id]!.isDone {
            report.skip(.loadWhileRunning, "request \(id) ended before a heartbeat came")
        } else {
            report.fail(.loadWhileRunning, """
                \(heartbeats.count - first) heartbeats in \(window) while request \(id) was streaming, \
                none with runningCount + waitingCount ≥ 1
                """)
        }
    }

    /// `abort` after the first tokens ends the request with reason abort, counting what was sent.
    private func checkAbort(of id: UInt64) {
        current = .abort
        if requests[id]!.isDone {
            return checkAbortBeforeTokens(after: "the long request \(id) \(requests[id]!.outcome) before the abort")
        }
        let sentBefore = requests[id]!.tokens.count
        send(.abort(requestID: id))
        wait { requests[id]!.isDone }
        let record = requests[id]!
        if case .length? = record.finish?.reason {
            return checkAbortBeforeTokens(after: "the long request \(id) finished (length) before the abort reached the worker")
        }
        expectFinish(record, .abort, completionTokens: record.tokens.count, for: .abort)
        guard checkUnknownAbort() else { return }
        report.pass(.abort, """
            request \(id) aborted after \(sentBefore) tokens: finished abort, completionTokens \(record.tokens.count); \
            an abort of an unknown id got no answer
            """)
    }

    /// The fallback when the long request ended before the kit could abort it mid-stream (a fast
    /// worker): abort a new one right after submitting it.
    private func checkAbortBeforeTokens(after why: String) {
        current = .abort
        let id = submitLongRequest(seed: 4, for: .abort)
        send(.abort(requestID: id))
        wait { requests[id]!.isDone }
        let record = requests[id]!
        expectFinish(record, .abort, completionTokens: record.tokens.count, for: .abort)
        guard checkUnknownAbort() else { return }
        report.pass(.abort, """
            \(why); a request aborted right after its submit finished abort after \(record.tokens.count) tokens; \
            an abort of an unknown id got no answer
            """)
    }

    /// An `abort` of an id the worker never saw gets no answer and changes nothing.
    private func checkUnknownAbort() -> Bool {
        listen(for: .milliseconds(200))  // the aborted request's last cache events
        let batches = replay?.batchCount ?? 0
        let unknown = unusedRequestID()
        send(.abort(requestID: unknown))
        listen(for: .milliseconds(300))  // an answer would be a message for an id the kit never submitted
        if let count = replay?.batchCount, count != batches {
            report.fail(.abort, "an abort of unknown request \(unknown) was followed by \(count - batches) kvEvents batches")
        }
        return !report.hasProblems(.abort)
    }
}
