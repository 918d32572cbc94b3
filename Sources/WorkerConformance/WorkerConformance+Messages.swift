// RadixServe: how the conformance kit applies each message from the worker under test.

import PageHashing
import ServingTypes
import WireProtocol

extension WorkerConformance {
    /// Decodes one frame from the worker and applies it to what the kit knows.
    func apply(_ frame: [UInt8]) {
        messageCount += 1
        lastMessageAt = clock.now
        let message: WorkerToRouter
        do {
            message = try WorkerToRouter.decode(frame)
        } catch {
            return report.fail(current, "undecodable message from the worker: \(error.message)")
        }
        switch message {
        case .register(let registration): received(registration)
        case .heartbeat(let heartbeat): received(heartbeat)
        case .tokens(let outputs): for output in outputs { received(output) }
        case .finished(let finish): received(finish, rawStopTokenID: Self.stopTokenID(ofFinished: frame))
        case .failed(let id, let code, let message): received(failure: code, message: message, for: id)
        case .kvEvents(let batch): replay?.apply(batch)
        case .snapshot(let snapshot):
            snapshots.append(SnapshotRecord(
                snapshot: snapshot, difference: replay?.difference(from: snapshot.chains), lastSequence: replay?.lastSequence ?? 0,
                message: messageCount))
        case .draining(let deadline): draining = (deadline, messageCount)
        case .leaving: leavingMessage = messageCount
        }
    }

    /// The `stopTokenID` field of a `finished` frame (after the request id and reason).
    static func stopTokenID(ofFinished frame: [UInt8]) -> Int32? {
        let offset = WireFrameHeader.byteCount + 9
        guard frame.count >= offset + 4 else { return nil }
        return Int32(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(frame[offset + $1]) << (8 * $1) })
    }

    func received(_ registration: WorkerRegistration) {
        registrations.append((registration, clock.now))
        if replay == nil, registration.pageSize >= 1 {
            replay = CacheReplay(
                hasher: PageHasher(seed: registration.hashSeed, pageSize: Int(registration.pageSize)),
                incarnation: registration.incarnation)
        }
        guard answersRegistrations else { return }
        send(.registered(workerID: registration.workerID, heartbeatMilliseconds: options.heartbeatMilliseconds))
        if registeredAt == nil { registeredAt = clock.now }
    }

    func received(_ output: TokenOutput) {
        guard var record = requests[output.requestID] else {
            return noteOnce(current, key: "tokens-\(output.requestID)", "tokens for request \(output.requestID), which the kit never submitted")
        }
        guard !record.isIgnoringAnswers else { return }
        let id = record.id
        if record.isDone {
            return noteOnce(record.check, key: "late-\(id)", "request \(id): tokens after it \(record.outcome)")
        }
        if output.firstIndex != record.tokens.count {
            noteOnce(record.check, key: "index-\(id)",
                "request \(id): a tokens entry with firstIndex \(output.firstIndex), expected \(record.tokens.count) (contiguous from 0)")
        }
        if !output.logprobs.isEmpty {
            noteOnce(record.check, key: "logprobs-\(id)", "request \(id): \(output.logprobs.count) logprobs, none were asked for")
        }
        record.tokens += output.tokenIDs
        record.entryCount += 1
        requests[id] = record
        replay?.learn(id: id, tokens: record.sequence, namespace: record.params.namespace)
    }

    func received(_ finish: RequestFinish, rawStopTokenID: Int32?) {
        guard var record = requests[finish.requestID] else {
            return noteOnce(current, key: "finished-\(finish.requestID)", "finished for request \(finish.requestID), which the kit never submitted")
        }
        guard !record.isIgnoringAnswers else { return }
        if record.isDone {
            return noteOnce(record.check, key: "late-\(record.id)", "request \(record.id): a second finished after it \(record.outcome)")
        }
        record.finish = finish
        record.rawStopTokenID = rawStopTokenID
        requests[record.id] = record
    }

    func received(failure code: WorkerFailureCode, message: String, for id: UInt64) {
        guard var record = requests[id] else {
            return noteOnce(current, key: "failed-\(id)", "failed (code \(code.rawValue)) for request \(id), which the kit never submitted")
        }
        guard !record.isIgnoringAnswers else { return }
        if record.isProbedForDuplicates && !record.isDone && record.duplicateFailures.isEmpty {
            record.duplicateFailures.append(code)
        } else if record.isDone {
            return noteOnce(record.check, key: "late-\(id)", "request \(id): failed after it \(record.outcome)")
        } else {
            record.failure = (code, message)
        }
        requests[id] = record
    }

    func received(_ heartbeat: WorkerHeartbeat) {
        heartbeats.append(HeartbeatRecord(heartbeat: heartbeat, at: clock.now, message: messageCount))
        guard let registration else { return noteOnce(current, key: "early-heartbeat", "a heartbeat before register") }
        let load = heartbeat.load
        if heartbeat.incarnation != registration.incarnation {
            noteOnce(.heartbeat, key: "incarnation",
                "a heartbeat has incarnation \(heartbeat.incarnation.hex), registered \(registration.incarnation.hex)")
        }
        if load.totalPages != Int(registration.capacityPages) {
            noteOnce(.heartbeat, key: "total", "a heartbeat has totalPages \(load.totalPages), registered capacityPages \(registration.capacityPages)")
        }
        if load.freePages + load.cachedPages > load.totalPages {
            noteOnce(.heartbeat, key: "free", "a heartbeat has freePages \(load.freePages) + cachedPages \(load.cachedPages) > totalPages \(load.totalPages)")
        }
        if load.evictablePages > load.cachedPages {
            noteOnce(.heartbeat, key: "evictable", "a heartbeat has evictablePages \(load.evictablePages) > cachedPages \(load.cachedPages)")
        }
        if load.prefillTokensPerSecond < 0 || load.decodeTokensPerSecond < 0 {
            noteOnce(.heartbeat, key: "speed", "a heartbeat has a negative speed (\(load.prefillTokensPerSecond), \(load.decodeTokensPerSecond))")
        }
        if !hasSubmitted {
            if load.runningCount != 0 || load.waitingCount != 0 {
                noteOnce(.heartbeat, key: "idle", "an idle worker's heartbeat has runningCount \(load.runningCount), waitingCount \(load.waitingCount)")
            }
            if load.prefillTokensPerSecond != 0 || load.decodeTokensPerSecond != 0 {
                noteOnce(.heartbeat, key: "unmeasured",
                    "a heartbeat before any request has speeds \(load.prefillTokensPerSecond), \(load.decodeTokensPerSecond) (expected 0: unmeasured)")
            }
        }
        if let replay, heartbeat.sequence != replay.lastSequence {
            noteOnce(.kvEvents, key: "heartbeat-sequence",
                "a heartbeat carries sequence \(heartbeat.sequence) after batch \(replay.lastSequence) (expected the last batch's)")
        }
    }
}

/// A heartbeat and when it came.
struct HeartbeatRecord {
    var heartbeat: WorkerHeartbeat
    var at: ContinuousClock.Instant
    /// ``WorkerConformance/messageCount`` when it arrived.
    var message: Int
}

/// A snapshot, compared with the replayed events when it arrived.
struct SnapshotRecord {
    var snapshot: CacheSnapshot
    /// How it differed from the replayed set; `nil`: equal.
    var difference: String?
    /// The sequence of the last batch before it.
    var lastSequence: UInt64
    /// ``WorkerConformance/messageCount`` when it arrived.
    var message: Int
}
