import Logging
import Testing

@testable import WorkerService

/// The worker's session with its router, driven by time and messages alone (no sockets).
@Suite struct RouterSessionStateTests {
    let start = ContinuousClock.now

    func session(timeout: Duration? = .seconds(5)) -> RouterSessionState {
        RouterSessionState(
            workerID: 7, routerDescription: "tcp://router:5557", now: start, registrationTimeout: timeout,
            registrationRetryInterval: .milliseconds(500), heartbeatInterval: .seconds(1))
    }

    func at(_ offset: Duration) -> ContinuousClock.Instant { start.advanced(by: offset) }

    func sends(_ actions: [RouterSessionState.Action]) -> [RouterSessionState.Action] {
        actions.filter { if case .log = $0 { false } else { true } }
    }

    @Test func registersAtOnceThenRetriesEveryIntervalUntilTheDeadline() {
        var state = session()
        #expect(sends(state.tick(now: at(.zero), drainDeadline: nil)) == [.sendRegistration])
        #expect(state.tick(now: at(.milliseconds(300)), drainDeadline: nil).isEmpty)
        #expect(state.nextDue == at(.milliseconds(500)))
        #expect(sends(state.tick(now: at(.milliseconds(500)), drainDeadline: nil)) == [.sendRegistration])
        let end = state.tick(now: at(.seconds(5)), drainDeadline: nil)
        #expect(sends(end) == [.end(.timedOut)])
        #expect(end.contains(.log(.warning, "no answer from tcp://router:5557 within 5.0 seconds")))
        #expect(state.refusalOfSubmissions == "worker is not registered")
    }

    @Test func aListeningWorkerWaitsForEver() {
        var state = session(timeout: nil)
        _ = state.tick(now: at(.zero), drainDeadline: nil)
        #expect(sends(state.tick(now: at(.seconds(3600)), drainDeadline: nil)) == [.sendRegistration])
    }

    @Test func registeredWorkerHeartbeatsAtTheRoutersInterval() {
        var state = session()
        _ = state.tick(now: at(.zero), drainDeadline: nil)
        let registered = state.registered(as: 7, heartbeatMilliseconds: 250, now: at(.milliseconds(100)))
        #expect(sends(registered) == [.reportRegistered])
        #expect(registered.contains(.log(.info, "registered with tcp://router:5557 as worker 7")))
        #expect(state.heartbeatInterval == .milliseconds(250))
        #expect(state.refusalOfSubmissions == nil)
        #expect(sends(state.tick(now: at(.milliseconds(100)), drainDeadline: nil)) == [.sendHeartbeat])
        #expect(state.tick(now: at(.milliseconds(200)), drainDeadline: nil).isEmpty)
        #expect(sends(state.tick(now: at(.milliseconds(350)), drainDeadline: nil)) == [.sendHeartbeat])
        // The deadline no longer applies once registered.
        #expect(sends(state.tick(now: at(.seconds(10)), drainDeadline: nil)) == [.sendHeartbeat])
        // A repeated `registered` logs nothing new and keeps the session.
        #expect(state.registered(as: 7, heartbeatMilliseconds: 0, now: at(.seconds(11))) == [.reportRegistered])
        #expect(state.heartbeatInterval == .milliseconds(250))
        #expect(state.stopping(drainDeadline: nil) == [.sendLeaving])
    }

    @Test func aMismatchedIDIsLoggedAndTinyIntervalsAreClamped() {
        var state = session()
        let actions = state.registered(as: 8, heartbeatMilliseconds: 1, now: at(.zero))
        #expect(actions.contains(.log(.warning, "router registered worker id 8, but this worker is 7")))
        #expect(state.heartbeatInterval == .milliseconds(10))
    }

    @Test func refusalEndsTheSession() {
        var state = session()
        #expect(sends(state.refused(reason: "page size 16 ≠ 32")) == [.end(.refused(reason: "page size 16 ≠ 32"))])
        #expect(RouterSessionState.Ending.refused(reason: "x").description == "refused: x")
        #expect(state.stopping(drainDeadline: .seconds(30)).isEmpty, "an unregistered worker has nobody to say goodbye to")
    }

    @Test func aDrainRequestedBeforeRegistrationIsAnnouncedOnceRegistered() {
        var state = session()
        let drain = Duration.seconds(30)
        #expect(sends(state.tick(now: at(.zero), drainDeadline: drain)) == [.sendRegistration])
        #expect(state.isDraining)
        #expect(state.refusalOfSubmissions == "worker is not registered")
        _ = state.registered(as: 7, heartbeatMilliseconds: 0, now: at(.milliseconds(10)))
        #expect(state.refusalOfSubmissions == "worker is shutting down")
        #expect(sends(state.tick(now: at(.milliseconds(10)), drainDeadline: drain)) == [.sendHeartbeat, .sendDraining(deadline: drain)])
        #expect(sends(state.tick(now: at(.seconds(2)), drainDeadline: drain)) == [.sendHeartbeat], "announced once")
    }

    /// An idle worker's drain can end before the loop ticks again: stopping announces the drain
    /// first, so the router always hears `draining` before `leaving`, and only once.
    @Test func stoppingAnnouncesADrainNoTickAnnounced() {
        var state = session()
        _ = state.registered(as: 7, heartbeatMilliseconds: 0, now: at(.zero))
        #expect(state.stopping(drainDeadline: .seconds(30)) == [.sendDraining(deadline: .seconds(30)), .sendLeaving])
        #expect(state.isDraining)

        var announced = session()
        _ = announced.registered(as: 7, heartbeatMilliseconds: 0, now: at(.zero))
        #expect(sends(announced.tick(now: at(.zero), drainDeadline: .seconds(30))) == [.sendHeartbeat, .sendDraining(deadline: .seconds(30))])
        #expect(announced.stopping(drainDeadline: .seconds(30)) == [.sendLeaving], "announced once")
    }

    @Test func registerAgainRegistersWithoutADeadlineUnlessDraining() {
        var state = session()
        _ = state.registered(as: 7, heartbeatMilliseconds: 0, now: at(.zero))
        let again = state.registerAgain(now: at(.seconds(20)))
        #expect(again == [.log(.notice, "tcp://router:5557 does not know this worker any more; registering again")])
        #expect(!state.isRegistered)
        #expect(sends(state.tick(now: at(.seconds(20)), drainDeadline: nil)) == [.sendRegistration])
        #expect(sends(state.tick(now: at(.seconds(600)), drainDeadline: nil)) == [.sendRegistration], "no deadline any more")
        _ = state.registered(as: 7, heartbeatMilliseconds: 0, now: at(.seconds(601)))
        #expect(sends(state.tick(now: at(.seconds(601)), drainDeadline: nil)) == [.sendHeartbeat], "first heartbeat at once")

        _ = state.tick(now: at(.seconds(602)), drainDeadline: .seconds(5))
        #expect(state.registerAgain(now: at(.seconds(603))).isEmpty, "a draining worker does not come back")
        #expect(state.isRegistered)
        var fresh = session()
        #expect(fresh.registerAgain(now: at(.zero)).isEmpty, "not registered yet: nothing to redo")
    }
}
