import Foundation
import ProcessLifecycle
import Synchronization
import Testing

@Suite struct ChangeSignalTests {
    @Test func aWaitAfterAnOlderVersionReturnsAtOnce() async {
        let signal = ChangeSignal()
        let seen = signal.version
        signal.notify()
        await signal.wait(after: seen)
        #expect(signal.version == seen + 1)
    }

    @Test func aWaiterWakesOnTheNextNotify() async {
        let signal = ChangeSignal()
        let woke = Atomic(false)
        let seen = signal.version
        let waiter = Task {
            await signal.wait(after: seen)
            woke.store(true, ordering: .relaxed)
        }
        try? await Task.sleep(for: .milliseconds(50))
        let wokeEarly = woke.load(ordering: .relaxed)
        #expect(!wokeEarly)
        signal.notify()
        await waiter.value
        let wokeAfterNotify = woke.load(ordering: .relaxed)
        #expect(wokeAfterNotify)
    }

    @Test func cancellingAWaiterEndsItsWait() async {
        let signal = ChangeSignal()
        let waiter = Task { await signal.wait(after: signal.version) }
        try? await Task.sleep(for: .milliseconds(20))
        waiter.cancel()
        await waiter.value
    }

    @Test func waitingForAConditionRechecksItOnEveryChange() async {
        let signal = ChangeSignal()
        let counter = Atomic(0)
        let result = Task { await signal.wait { counter.load(ordering: .relaxed) >= 3 ? counter.load(ordering: .relaxed) : nil } }
        for _ in 0..<3 {
            try? await Task.sleep(for: .milliseconds(10))
            counter.add(1, ordering: .relaxed)
            signal.notify()
        }
        #expect(await result.value == 3)
    }

    @Test func waitingForAConditionGivesUpAtTheDeadline() async {
        let signal = ChangeSignal()
        let start = ContinuousClock.now
        let result: Int? = await signal.wait(until: start.advanced(by: .milliseconds(100))) { nil }
        #expect(result == nil)
        #expect(ContinuousClock.now - start >= .milliseconds(100))
    }
}
