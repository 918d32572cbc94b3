import Foundation
import TestSupport

/// A `radixserve` child running in the background, with its output collected.
final class ChildProcess: @unchecked Sendable {
    // @unchecked: output is only touched under `lock`; `process` is used from the test thread.
    let process = Process()
    private let lock = NSLock()
    private var output = Data()
    private var error = Data()

    init(_ arguments: [String]) throws {
        process.executableURL = ProcessHarness.executable
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        out.fileHandleForReading.readabilityHandler = { [unowned self] handle in
            let data = handle.availableData
            lock.withLock { output.append(data) }
        }
        err.fileHandleForReading.readabilityHandler = { [unowned self] handle in
            let data = handle.availableData
            lock.withLock { error.append(data) }
        }
        try process.run()
    }

    var standardOutput: String { lock.withLock { String(decoding: output, as: UTF8.self) } }
    var standardError: String { lock.withLock { String(decoding: error, as: UTF8.self) } }

    /// Waits until `condition` holds or `timeout` seconds pass; returns whether it held.
    @discardableResult
    func wait(until condition: () -> Bool, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() && Date() < deadline { usleep(10_000) }
        return condition()
    }

    /// Waits for exit up to `timeout` seconds (killing it then); returns the status, nil if killed.
    func finish(timeout: Double) -> Int32? {
        let exited = wait(until: { !process.isRunning }, timeout: timeout)
        if !exited { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        usleep(50_000)  // let the readability handlers drain
        return exited ? process.terminationStatus : nil
    }

    /// Whether `pid` still names a live (non-zombie) process.
    static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    /// Pids of ranks the leader reported on stderr ("started tensor-parallel rank K as pid P").
    var rankPIDs: [Int32] {
        standardError.split(separator: "\n").compactMap { line in
            guard line.contains("started tensor-parallel rank"), let last = line.split(separator: " ").last else { return nil }
            return Int32(last)
        }
    }
}
