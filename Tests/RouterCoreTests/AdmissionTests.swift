import RouterCore
import Testing

/// Per-key concurrency and token-rate limits, and the priority queue's order, on injected time.
struct AdmissionTests {
    let start = RouterInstant.seconds(100)

    @Test func aKeyAtItsConcurrencyLimitIsRefusedUntilOneEnds() {
        var admission = Admission(
            bounds: AdmissionBounds(), defaults: KeyLimits(maxConcurrentRequests: 2), now: start)
        let v1 = admission.request(1, key: "a", cost: 10, priority: 0, now: start)
        #expect(v1 == .admitted)
        let v2 = admission.request(2, key: "a", cost: 10, priority: 0, now: start)
        #expect(v2 == .admitted)
        let v3 = admission.request(3, key: "a", cost: 10, priority: 0, now: start)
        #expect(v3 == .refused(.concurrency(limit: 2)))
        // Another key has its own count.
        let v4 = admission.request(4, key: "b", cost: 10, priority: 0, now: start)
        #expect(v4 == .admitted)
        let v5 = admission.finish(1)
        #expect(v5.isEmpty)
        let v6 = admission.request(5, key: "a", cost: 10, priority: 0, now: start)
        #expect(v6 == .admitted)
        let figures = admission.figures(now: start)["a"]
        #expect(figures?.admitted == 3 && figures?.running == 2 && figures?.refused["concurrency"] == 1)
    }

    @Test func theTokenBucketRefillsEvenlyOverAMinute() throws {
        var admission = Admission(bounds: AdmissionBounds(), defaults: KeyLimits(tokensPerMinute: 600), now: start)
        let v7 = admission.request(1, key: "a", cost: 500, priority: 0, now: start)
        #expect(v7 == .admitted)
        // 100 left; 300 needed: 200 more at 10 per second is 20 s.
        let refused = admission.request(2, key: "a", cost: 300, priority: 0, now: start)
        guard case .refused(let refusal) = refused, case .tokenRate(300, 100, 600, let retryAfter) = refusal else {
            Issue.record("expected a token-rate refusal, got \(refused)")
            return
        }
        #expect(abs(retryAfter - 20) < 1e-9 && refusal.retryAfterSeconds == 20)
        // Finishing gives nothing back: the charge is prompt + max_tokens at admission.
        _ = admission.finish(1)
        let v8 = admission.request(3, key: "a", cost: 300, priority: 0, now: start.advanced(by: .seconds(19)))
        #expect(v8 != .admitted)
        let v9 = admission.request(4, key: "a", cost: 300, priority: 0, now: start.advanced(by: .seconds(20)))
        #expect(v9 == .admitted)
        // The bucket never holds more than a minute's worth.
        let v10 = admission.figures(now: start.advanced(by: .seconds(3600)))
        #expect(v10["a"]?.tokensAvailable == 600)
    }

    @Test func aRequestLargerThanAMinutesTokensCanNeverPass() {
        var admission = Admission(bounds: AdmissionBounds(), defaults: KeyLimits(tokensPerMinute: 100), now: start)
        let verdict = admission.request(1, key: "a", cost: 101, priority: 0, now: start)
        #expect(verdict == .refused(.tooLarge(cost: 101, limit: 100)))
        if case .refused(let refusal) = verdict { #expect(refusal.retryAfterSeconds == nil) }
    }

    @Test func aKeysOwnLimitsOverrideTheDefaults() {
        var admission = Admission(
            bounds: AdmissionBounds(), defaults: KeyLimits(maxConcurrentRequests: 1, tokensPerMinute: 1000),
            perKey: ["big": KeyLimits(maxConcurrentRequests: 3)], knownKeys: ["big", "small"], now: start)
        #expect(admission.limits(of: "big") == KeyLimits(maxConcurrentRequests: 3, tokensPerMinute: 1000))
        #expect(admission.limits(of: "other") == KeyLimits(maxConcurrentRequests: 1, tokensPerMinute: 1000))
        #expect(Set(admission.figures(now: start).keys) == ["big", "small"])
        for ticket in 1...3 as ClosedRange<UInt64> {
            let v11 = admission.request(ticket, key: "big", cost: 1, priority: 0, now: start)
            #expect(v11 == .admitted)
        }
        let v12 = admission.request(4, key: "big", cost: 1, priority: 0, now: start)
        #expect(v12 == .refused(.concurrency(limit: 3)))
    }

    @Test func aFreedSlotGoesToTheHighestPriorityThenTheQuietestKeyThenTheEarliest() {
        var admission = Admission(bounds: AdmissionBounds(maxRunningRequests: 2, maxQueuedRequests: 10), now: start)
        // "burst" fills both slots and queues three more; "quiet" queues one later, "urgent" one later still.
        for ticket in 1...5 as ClosedRange<UInt64> {
            _ = admission.request(ticket, key: "burst", cost: 1, priority: 0, now: start)
        }
        #expect(admission.runningCount == 2 && admission.queuedCount == 3)
        let v13 = admission.request(6, key: "quiet", cost: 1, priority: 0, now: start)
        #expect(v13 == .queued)
        let v14 = admission.request(7, key: "urgent", cost: 1, priority: 5, now: start)
        #expect(v14 == .queued)
        let afterFirst = admission.finish(1)
        #expect(afterFirst == [7], "highest priority first")
        let afterUrgent = admission.finish(7)
        #expect(afterUrgent == [6], "then the key running fewest (burst still runs 2), though it came after burst's")
        let afterQuiet = admission.finish(6)
        #expect(afterQuiet == [3], "then the earliest of burst's")
        let afterSecond = admission.finish(2)
        #expect(afterSecond == [4])
        let afterThird = admission.finish(3)
        #expect(afterThird == [5])
        #expect(admission.queuedCount == 0)
    }

    @Test func theQueueIsBoundedAndAWaiterTimesOutWithItsTokensBack() {
        var admission = Admission(
            bounds: AdmissionBounds(maxRunningRequests: 1, maxQueuedRequests: 1, maxQueueWait: .seconds(5)),
            defaults: KeyLimits(tokensPerMinute: 60), now: start)
        let v20 = admission.request(1, key: "a", cost: 10, priority: 0, now: start)
        #expect(v20 == .admitted)
        let v21 = admission.request(2, key: "a", cost: 10, priority: 0, now: start)
        #expect(v21 == .queued)
        let v22 = admission.request(3, key: "b", cost: 10, priority: 0, now: start)
        #expect(v22 == .refused(.queueFull(limit: 1)))
        #expect(admission.nextExpiry == start.advanced(by: .seconds(5)))
        let v23 = admission.expire(now: start.advanced(by: .seconds(4)))
        #expect(v23.isEmpty)
        let expired = admission.expire(now: start.advanced(by: .seconds(5)))
        #expect(expired.map(\.ticket) == [2])
        let figures = admission.figures(now: start.advanced(by: .seconds(5)))["a"]
        // 60 - 10 (admitted) - 10 (queued) + 10 (given back) + 5 (refilled over 5 s).
        #expect(figures?.tokensAvailable == 55 && figures?.queued == 0 && figures?.tokensCharged == 10)
        #expect(figures?.refused["queue_timeout"] == 1)
        let v24 = admission.finish(1)
        #expect(v24.isEmpty)
    }

    @Test func aWithdrawnWaiterLeavesTheQueueAndAFinishedOneIsNotWithdrawn() {
        var admission = Admission(bounds: AdmissionBounds(maxRunningRequests: 1, maxQueuedRequests: 4), now: start)
        _ = admission.request(1, key: "a", cost: 1, priority: 0, now: start)
        _ = admission.request(2, key: "a", cost: 1, priority: 0, now: start)
        _ = admission.request(3, key: "a", cost: 1, priority: 0, now: start)
        let v25 = admission.withdraw(2)
        #expect(v25)
        let v26 = admission.withdraw(1)
        #expect(!v26, "running, not waiting")
        let v27 = admission.finish(1)
        #expect(v27 == [3])
        let v28 = admission.finish(1)
        #expect(v28.isEmpty, "a second finish does nothing")
        let v29 = admission.finish(3)
        #expect(v29.isEmpty && admission.runningCount == 0)
    }

    @Test func everyTicketIsAdmittedOrRefusedExactlyOnceUnderRandomTraffic() {
        var generator = SystemRandomNumberGenerator()
        var admission = Admission(
            bounds: AdmissionBounds(maxRunningRequests: 3, maxQueuedRequests: 5, maxQueueWait: .seconds(2)),
            defaults: KeyLimits(maxConcurrentRequests: 4, tokensPerMinute: 6000), now: start)
        var now = start
        var running: Set<UInt64> = []
        var waiting: Set<UInt64> = []
        var outcomes: [UInt64: Int] = [:]
        for ticket in 1...2000 as ClosedRange<UInt64> {
            now = now.advanced(by: .milliseconds(Int64.random(in: 0...300, using: &generator)))
            for (expired, _) in admission.expire(now: now) {
                #expect(waiting.remove(expired) != nil)
                outcomes[expired, default: 0] += 1
            }
            switch admission.request(ticket, key: ["a", "b", "c"].randomElement(using: &generator)!, cost: 50, priority: Int.random(in: 0...2, using: &generator), now: now) {
            case .admitted:
                running.insert(ticket)
                outcomes[ticket, default: 0] += 1
            case .queued: waiting.insert(ticket)
            case .refused: outcomes[ticket, default: 0] += 1
            }
            if let done = running.randomElement(using: &generator), Bool.random(using: &generator) {
                running.remove(done)
                for next in admission.finish(done) {
                    #expect(waiting.remove(next) != nil)
                    running.insert(next)
                    outcomes[next, default: 0] += 1
                }
            }
            #expect(admission.runningCount == running.count && admission.queuedCount == waiting.count)
            #expect(running.count <= 3 && waiting.count <= 5)
            #expect(waiting.isEmpty || running.count == 3, "nothing waits while a slot is free")
        }
        #expect(outcomes.values.allSatisfy { $0 == 1 })
    }
}
