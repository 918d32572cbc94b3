// RadixServe: a worker's session with its router, as a state machine that returns actions.

import Logging

/// The worker's side of its session with a router: registration (with retries and a deadline),
/// heartbeats, the drain announcement, re-registration after a router restart, and leaving.
///
/// A value: the socket thread feeds it the time and what arrived, and performs the actions it
/// returns; it never touches a socket, so every transition is tested without one.
///
/// ```
///            register every retry interval            registered
///  registering ──────────────────────────────────────────────▶ registered ──heartbeats──┐
///     │  ▲   deadline passed (connecting workers only): give up      │  ◀───────────────┘
///     │  └────────────── registerAgain (router restarted; no deadline) ┘
///     └─ refused: give up                     stop: `leaving` if registered
/// ```
/// A drain request makes the worker refuse new submissions at once and announce `draining` once,
/// as soon as it is registered.
struct RouterSessionState {
    /// What the socket thread must do.
    enum Action: Hashable {
        /// Send `register` (without waiting when the worker listens and may have no peer yet).
        case sendRegistration
        /// Send a heartbeat with the current load.
        case sendHeartbeat
        /// Tell the router the worker is draining, with the time it has left.
        case sendDraining(deadline: Duration)
        /// Send `leaving` without waiting (the router is told what is unfinished is orphaned).
        case sendLeaving
        /// The router accepted this worker (the first time in this registration).
        case reportRegistered
        /// End the session.
        case end(Ending)
        /// A line for the log, at a level.
        case log(Logger.Level, String)
    }

    /// Why a session ended before it was stopped.
    enum Ending: Hashable, CustomStringConvertible {
        /// A connecting worker heard nothing from the router within its registration timeout.
        case timedOut
        /// The router refused the worker, for this reason.
        case refused(reason: String)

        var description: String {
            switch self {
            case .timedOut: "registration timed out"
            case .refused(let reason): "refused: \(reason)"
            }
        }
    }

    private(set) var isRegistered = false
    /// Whether a drain was requested: new submissions are refused.
    private(set) var isDraining = false
    /// Whether the router was told of the drain.
    private var isDrainAnnounced = false
    /// When a worker still registering gives up (`nil`: never).
    private var registrationDeadline: ContinuousClock.Instant?
    /// When `register` is sent next while not registered.
    private var nextRegistration: ContinuousClock.Instant
    private var nextHeartbeat: ContinuousClock.Instant
    private(set) var heartbeatInterval: Duration
    private let registrationTimeout: Duration
    private let registrationRetryInterval: Duration
    private let workerID: UInt32
    /// How the router is named in logs.
    var routerDescription: String

    /// A session that starts registering at `now`; `registrationTimeout` `nil` waits for ever
    /// (a listening worker waits for a router to connect).
    init(
        workerID: UInt32, routerDescription: String, now: ContinuousClock.Instant, registrationTimeout: Duration?,
        registrationRetryInterval: Duration, heartbeatInterval: Duration
    ) {
        self.workerID = workerID
        self.routerDescription = routerDescription
        self.registrationTimeout = registrationTimeout ?? .zero
        self.registrationRetryInterval = registrationRetryInterval
        self.heartbeatInterval = heartbeatInterval
        nextRegistration = now
        nextHeartbeat = now
        registrationDeadline = registrationTimeout.map { now.advanced(by: $0) }
    }

    /// The next time ``tick(now:drainDeadline:)`` has something to do.
    var nextDue: ContinuousClock.Instant {
        isRegistered ? nextHeartbeat : min(nextRegistration, registrationDeadline ?? nextRegistration)
    }

    /// Advances time: registration retries or the deadline, heartbeats, and the drain once
    /// `drainDeadline` (the time the drain allows) is set.
    mutating func tick(now: ContinuousClock.Instant, drainDeadline: Duration?) -> [Action] {
        var actions: [Action] = []
        if !isRegistered {
            if let registrationDeadline, now >= registrationDeadline {
                return [
                    .log(.warning, "no answer from \(routerDescription) within \(registrationTimeout)"),
                    .end(.timedOut),
                ]
            }
            if now >= nextRegistration {
                actions.append(.sendRegistration)
                nextRegistration = now.advanced(by: registrationRetryInterval)
            }
        } else if now >= nextHeartbeat {
            actions.append(.sendHeartbeat)
            nextHeartbeat = now.advanced(by: heartbeatInterval)
        }
        if let drainDeadline {
            if !isDraining {
                isDraining = true
                actions.append(.log(.notice, "draining: no new requests; finishing the running ones within \(drainDeadline)"))
            }
            if isRegistered && !isDrainAnnounced {
                isDrainAnnounced = true
                actions.append(.sendDraining(deadline: drainDeadline))
            }
        }
        return actions
    }

    /// The router's `registered`.
    mutating func registered(as id: UInt32, heartbeatMilliseconds: UInt32, now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = []
        if id != workerID { actions.append(.log(.warning, "router registered worker id \(id), but this worker is \(workerID)")) }
        if heartbeatMilliseconds > 0 { heartbeatInterval = .milliseconds(max(heartbeatMilliseconds, 10)) }
        if !isRegistered {
            actions.append(.log(.info, "registered with \(routerDescription) as worker \(workerID)"))
            nextHeartbeat = now
        }
        isRegistered = true
        actions.append(.reportRegistered)
        return actions
    }

    /// The router's `refused`: the session ends.
    func refused(reason: String) -> [Action] {
        [.log(.error, "the router refused this worker: \(reason)"), .end(.refused(reason: reason))]
    }

    /// The router's `registerAgain` (it restarted and lost this worker): register again, for as
    /// long as it takes. Ignored while draining or before the first registration.
    mutating func registerAgain(now: ContinuousClock.Instant) -> [Action] {
        guard isRegistered, !isDraining else { return [] }
        isRegistered = false
        registrationDeadline = nil
        nextRegistration = now
        return [.log(.notice, "\(routerDescription) does not know this worker any more; registering again")]
    }

    /// Why a submission must be refused now, or `nil` to accept it.
    var refusalOfSubmissions: String? {
        if !isRegistered { return "worker is not registered" }
        if isDraining { return "worker is shutting down" }
        return nil
    }

    /// The session is stopping: a registered worker says it is leaving, after `draining` if a
    /// drain was requested (`drainDeadline`) and not announced yet.
    /// NOTE: the socket thread can stop (an idle engine ends the drain at once) before a tick
    /// announced the drain, and the router must hear `draining` before `leaving`.
    mutating func stopping(drainDeadline: Duration?) -> [Action] {
        guard isRegistered else { return [] }
        guard let drainDeadline, !isDrainAnnounced else { return [.sendLeaving] }
        isDraining = true
        isDrainAnnounced = true
        return [.sendDraining(deadline: drainDeadline), .sendLeaving]
    }
}
