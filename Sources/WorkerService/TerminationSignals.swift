// RadixServe: SIGINT and SIGTERM as a value to poll.

import Foundation
import Synchronization

/// SIGINT and SIGTERM turned into a value the main thread polls, so a long-running command can
/// shut down gracefully instead of dying mid-step.
///
/// While installed the signals do not terminate the process; ``restore()`` brings the default
/// back. Thread-safe: the dispatch handlers only store into an atomic.
public final class TerminationSignals: @unchecked Sendable {
    // @unchecked: `sources` is written once in `init`; dispatch sources may be cancelled from any thread.
    private let received = Atomic<Int32>(0)
    private let receivedCount = Atomic<Int>(0)
    private var sources: [any DispatchSourceSignal] = []

    /// Starts catching SIGINT and SIGTERM.
    public init() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in
                _ = received.compareExchange(expected: 0, desired: signalNumber, ordering: .relaxed)
                receivedCount.add(1, ordering: .relaxed)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The first signal caught, or `nil`.
    public var caught: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    /// How many signals were caught so far.
    public var count: Int { receivedCount.load(ordering: .relaxed) }

    /// The signal's conventional name, for messages.
    public static func name(of signalNumber: Int32) -> String {
        signalNumber == SIGINT ? "SIGINT" : signalNumber == SIGTERM ? "SIGTERM" : "signal \(signalNumber)"
    }

    /// Stops catching: SIGINT and SIGTERM terminate the process again.
    public func restore() {
        for source in sources { source.cancel() }
        for signalNumber in [SIGINT, SIGTERM] { signal(signalNumber, SIG_DFL) }
    }
}
