import Foundation

/// Runs the built `radixserve` executable from the products directory (next to the test bundle),
/// the ArgumentParser `AssertExecuteCommand` way.
public enum ProcessHarness {
    /// What a finished process left behind.
    public struct Outcome: Sendable {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
    }

    /// The `radixserve` executable of this build.
    public static let executable: URL = Bundle.main.bundleURL.appendingPathComponent("radixserve")

    /// Runs `radixserve arguments…` to completion, reading stdout and stderr concurrently so neither
    /// pipe can fill up and stall the child. Kills it after `timeout` seconds.
    public static func run(_ arguments: [String], timeout: Double = 120, environment: [String: String] = [:]) throws -> Outcome {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        let collected = CollectedOutput()
        output.fileHandleForReading.readabilityHandler = { handle in
            if let data = chunk(from: handle) { collected.append(output: data) }
        }
        error.fileHandleForReading.readabilityHandler = { handle in
            if let data = chunk(from: handle) { collected.append(error: data) }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        process.waitUntilExit()
        output.fileHandleForReading.readabilityHandler = nil
        error.fileHandleForReading.readabilityHandler = nil
        collected.append(output: output.fileHandleForReading.readDataToEndOfFile())
        collected.append(error: error.fileHandleForReading.readDataToEndOfFile())
        let (out, err) = collected.snapshot()
        return Outcome(status: process.terminationStatus, standardOutput: out, standardError: err)
    }
}

extension ProcessHarness {
    /// The bytes a readability handler was called for, or nil at end of file, where it also
    /// removes the handler: on Linux a read source at end of file fires again and again until then.
    static func chunk(from handle: FileHandle) -> Data? {
        let data = handle.availableData
        guard data.isEmpty else { return data }
        handle.readabilityHandler = nil
        return nil
    }
}

/// Bytes read from a child's pipes on Foundation's reader threads.
private final class CollectedOutput: @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private let lock = NSLock()
    private var output = Data()
    private var error = Data()

    func append(output data: Data) {
        lock.lock()
        output.append(data)
        lock.unlock()
    }

    func append(error data: Data) {
        lock.lock()
        error.append(data)
        lock.unlock()
    }

    func snapshot() -> (String, String) {
        lock.lock()
        defer { lock.unlock() }
        return (String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }
}
