import Foundation

/// A `radixserve` child running in the background, with its output collected (for tests that
/// signal it, kill its ranks or talk to it while it runs; ``ProcessHarness`` runs to completion).
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: output is only touched under `lock`; `process` is used from the test thread.
    /// The running executable.
    public let process = Process()
    private let lock = NSLock()
    private var output = Data()
    private var error = Data()
    private let out = Pipe()
    private let err = Pipe()

    /// Starts `radixserve arguments…` from the products directory, or `executable arguments…`
    /// (e.g. `/usr/bin/env python3 …` for a worker written in another language).
    public init(_ arguments: [String], executable: URL = ProcessHarness.executable, environment: [String: String] = [:]) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = out
        process.standardError = err
        out.fileHandleForReading.readabilityHandler = { [unowned self] handle in
            guard let data = ProcessHarness.chunk(from: handle) else { return }
            lock.withLock { output.append(data) }
        }
        err.fileHandleForReading.readabilityHandler = { [unowned self] handle in
            guard let data = ProcessHarness.chunk(from: handle) else { return }
            lock.withLock { error.append(data) }
        }
        try process.run()
    }

    // The handlers' dispatch sources must be gone before the pipes close their descriptors: a
    // source left on a closed descriptor number can fire for whatever reuses it (a ZeroMQ socket's
    // signalling descriptor, another pipe) and crash the dispatch event loop or swallow wake-ups.
    deinit {
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
    }

    /// Standard output so far.
    public var standardOutput: String { lock.withLock { String(decoding: output, as: UTF8.self) } }
    /// Standard error so far.
    public var standardError: String { lock.withLock { String(decoding: error, as: UTF8.self) } }

    /// Waits until `condition` holds or `timeout` seconds pass; returns whether it held.
    @discardableResult
    public func wait(until condition: () -> Bool, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() && Date() < deadline { usleep(10_000) }
        return condition()
    }

    /// The first stdout line containing `text`, waiting up to `timeout` seconds; nil on timeout
    /// or when the process exits without printing it.
    public func outputLine(containing text: String, timeout: Double) -> String? {
        func line() -> String? { standardOutput.split(separator: "\n").first { $0.contains(text) }.map(String.init) }
        wait(until: { line() != nil || !process.isRunning }, timeout: timeout)
        return line()
    }

    /// Sends `signal` if the process still runs; after SIGKILL, also reaps it.
    public func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
        if signal == SIGKILL { process.waitUntilExit() }
    }

    /// Waits for exit up to `timeout` seconds (killing it then); returns the status, nil if killed.
    public func finish(timeout: Double) -> Int32? {
        let exited = wait(until: { !process.isRunning }, timeout: timeout)
        if !exited { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        usleep(50_000)  // let the readability handlers drain
        return exited ? process.terminationStatus : nil
    }

    /// Whether `pid` still names a live (non-zombie) process.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    /// Pids of ranks the leader reported on stderr ("started tensor-parallel rank K as pid P").
    public var rankPIDs: [Int32] {
        standardError.split(separator: "\n").compactMap { line in
            guard line.contains("started tensor-parallel rank"), let last = line.split(separator: " ").last else { return nil }
            return Int32(last)
        }
    }
}
