import Foundation
import Synchronization
import Testing

/// Runs `python3` for the tests that drive the router with Python programs (the `openai` client,
/// the example worker). The packages come from scripts/setup.sh.
enum Python {
    /// What a finished `python3` run said.
    struct Run {
        var status: Int32
        var output: String
        var error: String
    }

    /// Runs `python3 arguments…` to completion, reading standard output and error at once (so
    /// neither pipe can fill up and stall the program).
    static func run(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let errorData = Mutex(Data())
        let reader = Thread { errorData.withLock { $0 = error.fileHandleForReading.readDataToEndOfFile() } }
        reader.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while reader.isExecuting || !reader.isFinished { usleep(1_000) }
        return Run(
            status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
            error: errorData.withLock { String(decoding: $0, as: UTF8.self) })
    }

    /// Whether python3 imports `module`; records an issue naming scripts/setup.sh when it does not.
    static func requireModule(_ module: String, package: String) throws -> Bool {
        let run = try run(["-c", "import \(module)"])
        if run.status != 0 {
            Issue.record("the Python package \(package) is missing for python3: run scripts/setup.sh (it pip-installs it): \(run.error)")
        }
        return run.status == 0
    }
}
