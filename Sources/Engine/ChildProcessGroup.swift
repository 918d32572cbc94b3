// RadixServe: child processes of this executable, which never outlive it.

import Foundation
import Synchronization

/// Child processes of this executable: ranks 1..<N of a tensor-parallel group, or the workers
/// of `radixserve up`.
///
/// Children never outlive their parent: ``finish(grace:)`` waits for them after a shutdown and
/// kills stragglers; SIGINT/SIGTERM of the parent kill them before it exits (unless the parent
/// shuts down gracefully on its own, `handlesSignals: false`); and each child
/// watches its parent pid (`--parent-pid`) and exits when the parent is gone, even after a
/// SIGKILL. Thread-safe: the signal handlers run on a dispatch queue.
public final class ChildProcessGroup: @unchecked Sendable {
    // @unchecked: `processes` is behind a Mutex; `signalSources` is written once in `init`, and
    // dispatch sources may be cancelled from any thread.
    private let processes: Mutex<[Process]>
    private var signalSources: [any DispatchSourceSignal] = []
    /// The children's pids, in index order.
    public let pids: [Int32]
    /// The index of the first child.
    private let firstIndex: Int

    /// Starts ranks 1..<size of a tensor-parallel group (`radixserve rank`, `arguments(rank)`).
    public convenience init(size: Int, handlesSignals: Bool = true, arguments: (Int) -> [String]) throws {
        try self.init(indices: 1..<size, handlesSignals: handlesSignals, label: "tensor-parallel ranks", arguments: arguments)
    }

    /// Starts this executable once per index in `indices`, with `arguments(index)`. With
    /// `handlesSignals`, SIGINT and SIGTERM kill the children and exit this process at once
    /// (saying it stopped its `label`).
    public init(indices: Range<Int>, handlesSignals: Bool, label: String, arguments: (Int) -> [String]) throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var started: [Process] = []
        for index in indices {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments(index)
            process.standardOutput = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                for child in started { kill(child.processIdentifier, SIGKILL) }
                throw error
            }
            started.append(process)
        }
        pids = started.map(\.processIdentifier)
        processes = Mutex(started)
        firstIndex = indices.lowerBound
        for signalNumber in [SIGINT, SIGTERM] where handlesSignals {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in
                killAll(SIGKILL)
                FileHandle.standardError.write(Data("radixserve: interrupted; stopped \(label)\n".utf8))
                exit(128 + signalNumber)
            }
            source.resume()
            signalSources.append(source)
        }
    }

    /// Sends `signal` to every child still running.
    public func killAll(_ signalNumber: Int32) {
        processes.withLock { list in
            for process in list where process.isRunning { kill(process.processIdentifier, signalNumber) }
        }
    }

    /// The first child (by index) that already exited, with its status.
    public func firstExited() -> (index: Int, status: Int32)? {
        processes.withLock { list in
            list.indices.first { !list[$0].isRunning }.map { (firstIndex + $0, list[$0].terminationStatus) }
        }
    }

    /// Waits up to `grace` for the children to exit on their own, then kills and reaps the rest.
    /// Returns the exit statuses, in index order.
    @discardableResult
    public func finish(grace: Duration) -> [Int32] {
        let deadline = ContinuousClock.now + grace
        let list = processes.withLock { $0 }
        while list.contains(where: \.isRunning) && ContinuousClock.now < deadline { usleep(5_000) }
        for process in list where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in list { process.waitUntilExit() }
        for source in signalSources { source.cancel() }
        if !signalSources.isEmpty {
            for signalNumber in [SIGINT, SIGTERM] { signal(signalNumber, SIG_DFL) }
        }
        return list.map(\.terminationStatus)
    }
}
