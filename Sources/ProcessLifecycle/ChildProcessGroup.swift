// RadixServe: child processes of this executable, which never outlive it.

import Dispatch
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Child processes of this executable: ranks 1..<N of a tensor-parallel group, or the workers
/// of `radixserve up`.
///
/// Children never outlive their parent: ``finish(grace:)`` waits for them after a shutdown and
/// kills stragglers; with `killsOnSignal`, SIGINT/SIGTERM of the parent kill them before it exits
/// (a parent that shuts down gracefully through ``ProcessServices`` stops them itself); and each
/// child runs a ``ParentWatchdog`` (`--parent-pid`) and exits when the parent is gone, even after
/// a SIGKILL. Every exit notifies ``exits``. Thread-safe.
public final class ChildProcessGroup: Sendable {
    private let processes: [Process]
    private let running: DispatchGroup
    private let signalWatch: Task<Void, Never>?
    /// The children's pids, in index order.
    public let pids: [Int32]
    /// Notified whenever a child exits.
    public let exits: ChangeSignal
    /// The index of the first child.
    private let firstIndex: Int

    /// Starts ranks 1..<size of a tensor-parallel group (`radixserve rank`, `arguments(rank)`).
    public convenience init(size: Int, killsOnSignal: Bool = true, arguments: (Int) -> [String]) throws {
        try self.init(indices: 1..<size, killsOnSignal: killsOnSignal, label: "tensor-parallel ranks", arguments: arguments)
    }

    /// Starts this executable once per index in `indices`, with `arguments(index)`. With
    /// `killsOnSignal`, SIGINT and SIGTERM kill the children and exit this process at once with
    /// status 128 + the signal (saying it stopped its `label`). `exits` is notified whenever a
    /// child exits (pass a signal something else notifies too, to wait for either).
    public init(
        indices: Range<Int>, killsOnSignal: Bool, label: String, exits: ChangeSignal = ChangeSignal(),
        arguments: (Int) -> [String]
    ) throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let running = DispatchGroup()
        var started: [Process] = []
        for index in indices {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments(index)
            process.standardOutput = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            running.enter()
            process.terminationHandler = { _ in
                running.leave()
                exits.notify()
            }
            do {
                try process.run()
            } catch {
                running.leave()
                for child in started { kill(child.processIdentifier, SIGKILL) }
                throw error
            }
            started.append(process)
        }
        processes = started
        self.running = running
        self.exits = exits
        pids = started.map(\.processIdentifier)
        firstIndex = indices.lowerBound
        guard killsOnSignal else {
            signalWatch = nil
            return
        }
        let pids = pids
        signalWatch = Task.detached {
            for await signal in await UnixSignalsSequence(trapping: .sigint, .sigterm) {
                for pid in pids { kill(pid, SIGKILL) }
                Logger(label: "radixserve").notice("interrupted; stopped \(label)")
                exit(128 + signal.rawValue)
            }
        }
    }

    /// Sends `signal` to every child still running.
    public func killAll(_ signalNumber: Int32) {
        for process in processes where process.isRunning { kill(process.processIdentifier, signalNumber) }
    }

    /// The first child (by index) that already exited, with its status.
    public func firstExited() -> (index: Int, status: Int32)? {
        processes.indices.first { !processes[$0].isRunning }.map { (firstIndex + $0, processes[$0].terminationStatus) }
    }

    /// Waits up to `grace` for the children to exit on their own, then kills and reaps the rest.
    /// Returns the exit statuses, in index order. Blocks the calling thread.
    @discardableResult
    public func finish(grace: Duration) -> [Int32] {
        if running.wait(timeout: .now() + grace / .milliseconds(1) / 1000) == .timedOut {
            killAll(SIGKILL)
        }
        for process in processes { process.waitUntilExit() }
        signalWatch?.cancel()
        return processes.map(\.terminationStatus)
    }
}

/// Stops a ``ChildProcessGroup`` when its service group shuts down: `onStop` runs, every child
/// gets SIGTERM, and those still running after `grace` are killed.
public struct ChildProcessService: Service {
    let children: ChildProcessGroup
    let grace: Duration
    let onStop: @Sendable () -> Void

    public init(_ children: ChildProcessGroup, grace: Duration, onStop: @escaping @Sendable () -> Void = {}) {
        self.children = children
        self.grace = grace
        self.onStop = onStop
    }

    public func run() async throws {
        try? await gracefulShutdown()
        onStop()
        children.killAll(SIGTERM)
        children.finish(grace: grace)
    }
}
