// RadixServe: the conformance check of a graceful stop (SIGTERM) of a worker the kit started.

import ServingTypes
import WireProtocol

extension WorkerConformance {
    /// `drain`: on SIGTERM the worker says `draining`, refuses new requests (code 3), keeps
    /// streaming its running one (which the kit aborts), then says `leaving` and exits 0.
    func checkDrain() {
        guard begin(.drain) else { return }
        guard let worker else { return report.skip(.drain, "the kit did not start the worker (give its command after --)") }
        let id = submitLongRequest(seed: 3, for: .drain)
        wait { !requests[id]!.tokens.isEmpty || requests[id]!.isDone }
        worker.terminate()
        guard wait(until: { draining != nil }), let draining else {
            return report.fail(.drain, "no draining within \(options.timeout) of SIGTERM" + (workerGone.map { " (\($0))" } ?? ""))
        }
        func fail(_ problem: String) { report.fail(.drain, problem) }
        if draining.deadlineMilliseconds == 0 { fail("draining with deadline 0") }
        // A worker whose request has ended may leave before it reads this submit; one still
        // running its request must answer it.
        let refused = submit(prompt(length: 4, seed: 5), greedy(maxTokens: 1), for: .drain)
        wait { requests[refused]!.isDone || leavingMessage != nil }
        if requests[refused]!.failure?.code != .unavailable && !(leavingMessage != nil && !requests[refused]!.isDone) {
            fail("a submit after draining: expected failed code 3 (unavailable), got \(requests[refused]!.outcome)")
        }
        let streamed = requests[id]!.tokens.count
        wait { requests[id]!.isDone || requests[id]!.tokens.count >= streamed + 2 }
        let moreTokens = requests[id]!.tokens.count - streamed
        if !requests[id]!.isDone {
            send(.abort(requestID: id))
            wait { requests[id]!.isDone }
        }
        if requests[id]!.finish == nil { fail("the running request \(id) \(requests[id]!.outcome) while draining") }
        wait { leavingMessage != nil }
        guard let leavingMessage else { return fail("no leaving after the running request ended") }
        if leavingMessage < draining.message { fail("leaving came before draining") }
        wait(.milliseconds(Int(draining.deadlineMilliseconds)) + .seconds(10)) { worker.exit() != nil }
        guard let exit = worker.exit() else { return fail("still running \(draining.deadlineMilliseconds / 1000 + 10) s after draining") }
        if exit != .status(0) { fail("the worker ended with \(exit), expected exit status 0") }
        report.pass(.drain, """
            draining (deadline \(draining.deadlineMilliseconds) ms), a new submit \(requests[refused]!.isDone ? "refused with code 3" : "unanswered (left)"), \
            the running request streamed \(moreTokens) more tokens and ended, leaving, \(exit)
            """)
    }
}
