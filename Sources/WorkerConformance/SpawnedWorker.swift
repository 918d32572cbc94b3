// RadixServe: a worker command started by the conformance kit.

import CProcess
import Foundation

/// A worker command run as a child of the kit: its standard output and error go to the kit's
/// standard error, and it gets SIGKILL when the thread that started it ends (the kit's run, or the
/// whole kit killed by any signal), so it never outlives the kit.
///
/// Not thread-safe: start, watch and stop it from the thread that runs the kit.
public final class SpawnedWorker: WorkerProcessControl {
    /// The child's process id.
    public let pid: pid_t
    private var ended: WorkerExit?

    /// Starts `command[0]` (looked up in `PATH` unless it names a path) with the rest as arguments.
    /// - Throws: ``ConformanceError`` when the command is empty, not found, or cannot be started.
    public init(command: [String]) throws(ConformanceError) {
        guard let name = command.first else { throw ConformanceError("the worker command is empty") }
        guard let path = Self.executablePath(name) else {
            throw ConformanceError("worker command '\(name)' is not an executable file or a program in PATH")
        }
        var arguments: [UnsafeMutablePointer<CChar>?] = ([path] + command.dropFirst()).map { strdup($0) }
        arguments.append(nil)
        defer { for argument in arguments { free(argument) } }
        let pid = radixserve_spawn_tied(path, arguments)
        guard pid > 0 else { throw ConformanceError("cannot start '\(name)': \(String(cString: strerror(errno)))") }
        self.pid = pid
    }

    deinit { forceStop() }

    public func terminate() {
        if exit() == nil { kill(pid, SIGTERM) }
    }

    public func exit() -> WorkerExit? {
        if ended == nil { reap(options: WNOHANG) }
        return ended
    }

    public func forceStop() {
        guard exit() == nil else { return }
        kill(pid, SIGKILL)
        reap(options: 0)
    }

    private func reap(options: Int32) {
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, options) } while result < 0 && errno == EINTR
        guard result == pid else { return }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import.
        ended = status & 0x7f == 0 ? .status((status >> 8) & 0xff) : .signal(status & 0x7f)
    }

    /// `name` itself when it contains a slash, else the first executable `PATH` entry of that name.
    static func executablePath(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }
}
