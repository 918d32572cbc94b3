// RadixServe: the conformance checks of the session: registration, heartbeats, a router restart.

import ServingTypes
import WireProtocol

extension WorkerConformance {
    /// `registration`: the first `register` and its fields. Returns whether the checks can go on
    /// (a page size and a model length the kit's requests fit in).
    func checkRegistration() -> Bool {
        current = .registration
        guard wait(until: { !registrations.isEmpty }), let registration else {
            report.fail(.registration, "no register within \(options.timeout)" + (worker?.exit().map { " (the worker ended: \($0))" } ?? ""))
            return false
        }
        func fail(_ problem: String) { report.fail(.registration, problem) }
        if registration.protocolRevision != WorkerMessageLimits.protocolRevision {
            fail("protocolRevision \(registration.protocolRevision), expected \(WorkerMessageLimits.protocolRevision)")
        }
        if registration.pageSize < 1 { fail("pageSize 0") }
        if registration.capacityPages < 1 { fail("capacityPages 0") }
        if registration.tensorParallelSize < 1 { fail("tensorParallelSize 0") }
        let needed = registration.pageSize >= 1 ? longestPromptLength + 16 : 0
        if registration.maxModelLength < needed {
            fail("maxModelLength \(registration.maxModelLength) is below the \(needed) tokens the kit's requests need")
        }
        let fingerprint = registration.modelFingerprint
        if fingerprint.isEmpty || fingerprint.utf8.count > WorkerMessageLimits.maxFingerprintBytes
            || !fingerprint.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        {
            fail("modelFingerprint '\(fingerprint)' is not 1 to 256 lowercase hex digits")
        }
        if let expected = options.modelFingerprint, fingerprint != expected {
            fail("modelFingerprint \(fingerprint), but the model's is \(expected)")
        }
        report.pass(.registration, """
            worker \(registration.workerID), incarnation \(registration.incarnation.hex), page size \(registration.pageSize), \
            \(registration.capacityPages) pages, max length \(registration.maxModelLength), TP \(registration.tensorParallelSize), \
            fingerprint \(fingerprint)
            """)
        return registration.pageSize >= 1 && registration.maxModelLength >= needed
    }

    /// `heartbeat`: the first right after `registered`, then at the interval the kit asked for.
    /// (Every heartbeat's fields are checked as it arrives, in `WorkerConformance+Messages.swift`.)
    func checkHeartbeats() {
        guard begin(.heartbeat), let registeredAt else { return }
        let firstDeadline = registeredAt.advanced(by: .seconds(1))
        wait(max(.zero, firstDeadline - clock.now)) { heartbeats.contains { $0.at >= registeredAt } }
        guard let first = heartbeats.first(where: { $0.at >= registeredAt }) else {
            return report.fail(.heartbeat, "no heartbeat within 1 s of registered")
        }
        let windowEnd = first.at.advanced(by: options.heartbeatWindow)
        listen(for: max(.zero, windowEnd - clock.now))
        let more = heartbeats.filter { $0.at > first.at && $0.at <= windowEnd }.count
        if more < 3 {
            report.fail(.heartbeat, """
                \(more) heartbeats in the \(options.heartbeatWindow) after the first, expected at least 3 \
                (one every \(options.heartbeatMilliseconds) ms)
                """)
        }
        let delay = (first.at - registeredAt) / .milliseconds(1)
        report.pass(.heartbeat, """
            the first \(Int(delay)) ms after registered, \(more) more in \(options.heartbeatWindow) \
            (interval \(options.heartbeatMilliseconds) ms); idle load and fields checked in every heartbeat
            """)
    }

    /// Sends `snapshotRequest`, waits for the snapshot and checks it against the replayed events,
    /// recording problems on `check`; `nil` when none came.
    func requestSnapshot(for check: ConformanceCheck) -> SnapshotRecord? {
        let count = snapshots.count
        send(.snapshotRequest)
        guard wait(until: { snapshots.count > count }) else {
            report.fail(check, "no snapshot within \(options.timeout) of snapshotRequest")
            return nil
        }
        let record = snapshots[count]
        if let registration, record.snapshot.incarnation != registration.incarnation {
            report.fail(check, "the snapshot has incarnation \(record.snapshot.incarnation.hex), registered \(registration.incarnation.hex)")
        }
        if record.snapshot.sequence != record.lastSequence {
            report.fail(check, "the snapshot carries sequence \(record.snapshot.sequence) after batch \(record.lastSequence)")
        }
        if let difference = record.difference { report.fail(check, difference) }
        return record
    }

    /// `snapshot`: the worker's listing equals the replayed events.
    func checkSnapshot() {
        guard begin(.snapshot), let record = requestSnapshot(for: .snapshot) else { return }
        let pages = record.snapshot.chains.reduce(0) { $0 + $1.pageHashes.count }
        report.pass(.snapshot, """
            sequence \(record.snapshot.sequence), \(record.snapshot.chains.count) chains, \(pages) pages: \
            equal to the replayed events
            """)
    }

    /// `reregistration`: the kit closes its socket and opens a new one (a router restart); the
    /// worker, told `registerAgain`, registers with the same id and incarnation, heartbeats with
    /// the last batch's sequence and lists an intact cache.
    func checkReregistration() {
        guard begin(.reregistration), let registration, let replay else { return }
        let lastSequence = replay.lastSequence
        let heldPages = replay.held.count
        let registrationCount = registrations.count
        answersRegistrations = false
        defer { answersRegistrations = true }
        do {
            try socket.reopen()
        } catch {
            workerGone = "the kit could not reopen its socket"
            return report.fail(.reregistration, "\(error)")
        }
        let before = messageCount
        guard wait(until: { messageCount > before }) else {
            return report.fail(.reregistration, "the worker sent nothing to the restarted router within \(options.timeout)")
        }
        let deadline = clock.now.advanced(by: options.timeout)
        while registrations.count == registrationCount, workerGone == nil, clock.now < deadline {
            send(.registerAgain)  // again each second, as a router does
            wait(.seconds(1)) { registrations.count > registrationCount }
        }
        guard registrations.count > registrationCount else {
            return report.fail(.reregistration, "no register within \(options.timeout) of registerAgain")
        }
        let again = registrations[registrationCount].registration
        if again.workerID != registration.workerID {
            report.fail(.reregistration, "registered again as worker \(again.workerID), first as \(registration.workerID)")
        }
        if again.incarnation != registration.incarnation {
            report.fail(.reregistration, """
                registered again with incarnation \(again.incarnation.hex), first \(registration.incarnation.hex) \
                (a new incarnation says the cache is empty)
                """)
        }
        answersRegistrations = true
        send(.registered(workerID: again.workerID, heartbeatMilliseconds: options.heartbeatMilliseconds))
        let heartbeatCount = heartbeats.count
        guard wait(until: { heartbeats.count > heartbeatCount }) else {
            return report.fail(.reregistration, "no heartbeat within \(options.timeout) of registered")
        }
        let sequence = heartbeats[heartbeatCount].heartbeat.sequence
        if sequence != lastSequence {
            report.fail(.reregistration, "the first heartbeat carries sequence \(sequence), the last batch was \(lastSequence)")
        }
        guard requestSnapshot(for: .reregistration) != nil else { return }
        report.pass(.reregistration, """
            registerAgain → register (same worker id and incarnation) → heartbeat with sequence \(sequence); \
            the snapshot lists the \(heldPages) pages held before the restart
            """)
    }
}
