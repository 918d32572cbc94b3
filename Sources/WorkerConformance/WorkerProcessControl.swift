// RadixServe: the process of the worker under test, when the kit runs it.

/// How a worker process ended.
public enum WorkerExit: Sendable, Hashable, CustomStringConvertible {
    /// It exited with this status.
    case status(Int32)
    /// A signal ended it.
    case signal(Int32)

    public var description: String {
        switch self {
        case .status(let status): "exit status \(status)"
        case .signal(let signal): "signal \(signal)"
        }
    }
}

/// The worker process the kit started, so the `drain` check can stop it and watch it exit.
/// Called only on the thread that runs the kit.
public protocol WorkerProcessControl: AnyObject {
    /// Asks the worker to stop gracefully (SIGTERM for a process).
    func terminate()
    /// How it ended, or `nil` while it runs. Does not block.
    func exit() -> WorkerExit?
    /// Ends it at once and waits until it is gone. Idempotent.
    func forceStop()
}
