import RouterCore
import ServingTypes
import Testing

@Suite struct WorkerRegistryTests {
    @Test func missedHeartbeatsMakeWorkersUnroutableOnce() {
        var registry = WorkerRegistry(heartbeatInterval: .milliseconds(100), missedHeartbeatLimit: 3)
        registry.add(WorkerID(1), incarnation: 1, now: .seconds(0))
        registry.add(WorkerID(2), incarnation: 1, now: .seconds(0))
        registry.heartbeat(WorkerID(2), now: .seconds(0.25))
        let early = registry.sweep(now: .seconds(0.3))
        let late = registry.sweep(now: .seconds(0.31))
        let again = registry.sweep(now: .seconds(0.4))
        #expect(early.isEmpty)
        #expect(late == [WorkerID(1)])
        #expect(again.isEmpty)
        #expect(registry.routableWorkers == [WorkerID(2)])
        let outcome1 = registry.heartbeat(WorkerID(1), now: .seconds(0.5))
        #expect(outcome1)
        #expect(registry.routableWorkers == [WorkerID(1), WorkerID(2)])
        let outcome2 = registry.remove(WorkerID(2))
        #expect(outcome2)
        let outcome3 = registry.remove(WorkerID(2))
        #expect(!outcome3)
    }

    @Test func aLaggingReportIsCorrectedByWhatFinishedSinceIt() {
        var registry = WorkerRegistry()
        let worker = WorkerID(3)
        registry.add(worker, incarnation: 1, now: .seconds(0))
        let reservation = registry.reserve(worker: worker, prefillTokens: 195, pages: 13)!
        // The worker reported while the request was still waiting for prefill.
        registry.heartbeat(worker, now: .seconds(0.1), report: LoadReport(runningCount: 1, waitingPrefillTokens: 195))
        #expect(registry.load(of: worker)!.queuedPrefillTokens == 195)
        registry.prefillCompleted(reservation)
        #expect(registry.load(of: worker)!.queuedPrefillTokens == 0)
        #expect(registry.load(of: worker)!.report.runningCount == 1)
        registry.release(reservation)
        #expect(registry.load(of: worker)!.report.runningCount == 0)
        // The next report is taken as is again.
        registry.heartbeat(worker, now: .seconds(0.2), report: LoadReport(runningCount: 2, waitingPrefillTokens: 50))
        #expect(registry.load(of: worker)!.report.runningCount == 2 && registry.load(of: worker)!.queuedPrefillTokens == 50)
    }

    @Test func reservationsMoveCountersAndReleaseOnce() {
        var registry = WorkerRegistry()
        let worker = WorkerID(4)
        registry.add(worker, incarnation: 1, now: .seconds(0))
        let first = registry.reserve(worker: worker, prefillTokens: 1_000, pages: 70)!
        let second = registry.reserve(worker: worker, prefillTokens: 500, pages: 40)!
        #expect(registry.load(of: worker)?.inFlightCount == 2)
        #expect(registry.load(of: worker)?.reservedPrefillTokens == 1_500)
        registry.prefillCompleted(first)
        registry.prefillCompleted(first)
        #expect(registry.load(of: worker)?.reservedPrefillTokens == 500)
        let outcome4 = registry.release(first)
        #expect(outcome4)
        let outcome5 = registry.release(first)
        #expect(!outcome5)
        #expect(registry.load(of: worker)?.inFlightCount == 1)
        #expect(registry.load(of: worker)?.reservedPages == 40)
        let outcome6 = registry.release(second)
        #expect(outcome6)
        let idle = registry.load(of: worker)!
        #expect(idle.inFlightCount == 0 && idle.reservedPrefillTokens == 0 && idle.reservedPages == 0)
        #expect(registry.outstandingCount == 0)
        let unknown = registry.reserve(worker: WorkerID(99), prefillTokens: 1, pages: 1)
        #expect(unknown == nil)
    }

    @Test func removedWorkersReservationsReleaseHarmlessly() {
        var registry = WorkerRegistry()
        registry.add(WorkerID(1), incarnation: 1, now: .seconds(0))
        let reservation = registry.reserve(worker: WorkerID(1), prefillTokens: 10, pages: 1)!
        registry.remove(WorkerID(1))
        registry.add(WorkerID(1), incarnation: 2, now: .seconds(1))
        let outcome7 = registry.release(reservation)
        #expect(!outcome7)
        #expect(registry.load(of: WorkerID(1))?.inFlightCount == 0)
    }

    @Test func prefillSpeedIsAnEWMAOfObservationsAndReports() {
        var registry = WorkerRegistry(defaultPrefillTokensPerSecond: 1_000, prefillSpeedSmoothing: 0.5)
        let worker = WorkerID(1)
        registry.add(worker, incarnation: 1, now: .seconds(0))
        let fresh = WorkerID(2)
        registry.add(fresh, incarnation: 1, now: .seconds(0))
        #expect(registry.load(of: worker)?.prefillTokensPerSecond == 1_000)
        // The first measurement replaces the default; later ones blend in.
        registry.observePrefill(worker, tokens: 3_000, seconds: 1)
        #expect(registry.load(of: worker)?.prefillTokensPerSecond == 3_000)
        registry.heartbeat(worker, now: .seconds(0.1), report: LoadReport(runningCount: 2, prefillTokensPerSecond: 4_000))
        #expect(registry.load(of: worker)?.prefillTokensPerSecond == 3_500)
        #expect(registry.load(of: worker)?.report.runningCount == 2)
        // A worker without a measurement of its own is assumed as fast as the measured ones.
        #expect(registry.load(of: fresh)?.prefillTokensPerSecond == 3_500)
    }
}
