import Foundation
import Logging
import ProcessLifecycle
import ServiceLifecycle
import Synchronization
import Testing
import UnixSignals
import TestSupport

/// Records the order services start and stop in.
private final class Journal: Sendable {
    let entries = Mutex<[String]>([])
    func add(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

private struct RecordingService: Service {
    let name: String
    let journal: Journal
    var failure: String?

    func run() async throws {
        journal.add("start \(name)")
        if let failure { throw ServiceFailure(message: failure) }
        try? await gracefulShutdown()
        journal.add("stop \(name)")
    }
}

private struct ServiceFailure: Error, Equatable {
    let message: String
}

/// Signals come from a stream standing in for the process's (raising real ones would also stop the
/// in-process HTTP servers of other suites, which trap them too; the built executables get real
/// signals in the worker, rank and `up` tests). The groups run on a thread of their own, so long
/// synchronous tests elsewhere in the run cannot starve them.
@Suite struct ShutdownSignalsTests {
    static let executor = DedicatedThreadExecutor()

    @Test func aSignalStopsTheServicesInReverseOrderAndLaterSignalsAreCounted() async throws {
        let journal = Journal()
        let repeats = Atomic(0)
        let (stream, raise) = AsyncStream<UnixSignal>.makeStream()
        let signals = ShutdownSignals(logger: Logger(label: "test"), source: .stream(stream)) { _ in
            repeats.add(1, ordering: .relaxed)
        }
        let services: [any Service] = [RecordingService(name: "a", journal: journal), RecordingService(name: "b", journal: journal)]
        let group = Task(executorPreference: Self.executor) {
            try await ProcessServices.run(services, signals: signals, logger: Logger(label: "test"))
        }
        try await Self.waitUntil { journal.all.count == 2 }
        raise.yield(.sigterm)
        try await group.value
        #expect(signals.count == 1)
        #expect(journal.all.suffix(2) == ["stop b", "stop a"])
        let repeated = repeats.load(ordering: .relaxed)
        #expect(repeated == 0)
    }

    @Test func aSecondSignalReachesOnRepeatWhileAServiceStillStops() async throws {
        let repeats = Atomic(0)
        let repeated = ChangeSignal()
        let (stream, raise) = AsyncStream<UnixSignal>.makeStream()
        let signals = ShutdownSignals(logger: Logger(label: "test"), source: .stream(stream)) { _ in
            repeats.add(1, ordering: .relaxed)
            repeated.notify()
        }
        // Like a worker's drain: stopping takes until the second signal.
        let draining = Atomic(false)
        let drain = ClosureService {
            try? await gracefulShutdown()
            draining.store(true, ordering: .relaxed)
            _ = await repeated.wait { repeats.load(ordering: .relaxed) > 0 ? true : nil }
        }
        let group = Task(executorPreference: Self.executor) {
            try await ProcessServices.run([drain], signals: signals, logger: Logger(label: "test"))
        }
        raise.yield(.sigint)
        try await Self.waitUntil { draining.load(ordering: .relaxed) }
        raise.yield(.sigterm)
        try await group.value
        #expect(signals.count == 2)
        let repeatCount = repeats.load(ordering: .relaxed)
        #expect(repeatCount == 1)
    }

    @Test func aFailingServiceEndsTheGroupWithItsError() async throws {
        let journal = Journal()
        let signals = ShutdownSignals(logger: Logger(label: "test"), source: .stream(AsyncStream { _ in }))
        let services: [any Service] = [
            RecordingService(name: "a", journal: journal), RecordingService(name: "b", journal: journal, failure: "refused"),
        ]
        await #expect(throws: ServiceFailure(message: "refused")) {
            try await Task(executorPreference: Self.executor) {
                try await ProcessServices.run(services, signals: signals, logger: Logger(label: "test"))
            }.value
        }
        #expect(signals.count == 0)
    }

    /// Polls `condition` from a thread of its own (the test's task may wait for the pool). The
    /// deadline is a hang guard only: in a full run on two cores, long synchronous tests hold the
    /// cooperative pool for minutes, and parts of swift-service-lifecycle still run there (a CI run
    /// kept it busy for over 10 minutes, until its last suites finished), so the guard is 30
    /// minutes, well inside CI's limit.
    static func waitUntil(_ condition: @escaping @Sendable () -> Bool) async throws {
        let met = try await onOwnThread {
            let deadline = Date().addingTimeInterval(1800)
            while !condition() && Date() < deadline { usleep(10_000) }
            return condition()
        }
        guard met else { throw WaitTimedOut() }
    }

    struct WaitTimedOut: Error {}
}
