// RadixServe: SIGINT and SIGTERM as the graceful shutdown of a process's services.

import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The first service of every long-running process (see ``ProcessServices``): the first SIGINT
/// or SIGTERM is logged (`received SIGTERM; shutting down`) and starts the graceful shutdown of
/// the group, which stops the other services in reverse order; every later signal is counted and
/// passed to `onRepeat` (a worker then ends its drain at once).
///
/// Being first, it is shut down last, so it still hears signals while the others drain.
public final class ShutdownSignals: Service, Sendable {
    /// Where the signals come from.
    public enum Source: Sendable {
        /// SIGINT and SIGTERM of this process, trapped while the service runs.
        case process
        /// A stream standing in for the process's signals (tests: raising real signals would also
        /// stop every other server in the test process that traps them).
        case stream(AsyncStream<UnixSignal>)
    }

    private let logger: Logger
    private let source: Source
    private let onRepeat: @Sendable (UnixSignal) -> Void
    private let group = Mutex<ServiceGroup?>(nil)
    private let received = Atomic<Int>(0)

    /// `onRepeat` runs for the second and every later signal.
    public init(logger: Logger, source: Source = .process, onRepeat: @escaping @Sendable (UnixSignal) -> Void = { _ in }) {
        self.logger = logger
        self.source = source
        self.onRepeat = onRepeat
    }

    /// How many signals arrived so far.
    public var count: Int { received.load(ordering: .relaxed) }

    /// The group whose graceful shutdown the first signal starts.
    func attach(to serviceGroup: ServiceGroup) {
        group.withLock { $0 = serviceGroup }
    }

    public func run() async throws {
        switch source {
        case .process:
            for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint).cancelOnGracefulShutdown() {
                await receive(signal)
            }
        case .stream(let signals):
            for await signal in signals.cancelOnGracefulShutdown() { await receive(signal) }
        }
    }

    private func receive(_ signal: UnixSignal) async {
        if received.add(1, ordering: .relaxed).newValue == 1 {
            logger.notice("received \(Self.name(of: signal)); shutting down")
            await group.withLock { $0 }?.triggerGracefulShutdown()
        } else {
            onRepeat(signal)
        }
    }

    /// The signal's conventional name, as in `received SIGTERM`.
    static func name(of signal: UnixSignal) -> String {
        switch signal {
        case .sigint: "SIGINT"
        case .sigterm: "SIGTERM"
        default: "\(signal)"
        }
    }
}

/// Runs a process's services as one `ServiceGroup` behind ``ShutdownSignals``.
public enum ProcessServices {
    /// Runs `services` (started in order, stopped in reverse) until SIGINT/SIGTERM has stopped
    /// them all, or one of them fails: then the others are cancelled and its error is thrown.
    /// A service that returns on its own also ends the group.
    public static func run(
        _ services: [any Service], signals: ShutdownSignals, logger: Logger
    ) async throws {
        let configurations = ([signals] + services).map {
            // Returning is a normal end (a rank told to shut down by its leader): the others
            // shut down gracefully and the group does not report it as an error.
            ServiceGroupConfiguration.ServiceConfiguration(service: $0, successTerminationBehavior: .gracefullyShutdownGroup)
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: configurations, logger: logger))
        signals.attach(to: group)
        try await group.run()
    }
}
