import ArgumentParser
import WorkerConformance

/// `radixserve conformance worker`: plays the router against a worker under test (``WorkerConformance``),
/// one report line per check; exit status 1 when any check fails.
struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance", abstract: "Check another implementation against the wire protocol.", subcommands: [Worker.self])

    struct Worker: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Play the router against a worker; exit status 1 on any failure.")

        @Option(help: "Connect to a worker that listens here (radixserve worker --listen ENDPOINT).") var connect: String?
        @Option(help: "Bind here for the worker to connect to (radixserve worker --router ENDPOINT).") var listen: String?
        @Option(help: "The worker's model directory: its fingerprint must match; prompts fit its vocab_size.") var model: String?
        @Option(help: "Vocabulary size without --model (prompt token ids are drawn from 3..<min(N, 100)).") var vocabSize: Int?
        @Option(help: "Seconds to wait for each answer.") var timeout: Double = 30
        @Argument(parsing: .postTerminator, help: "After --: the worker command to start (the drain check needs it).")
        var command: [String] = []

        func run() throws {
            let options = try WorkerConformanceOptions(
                connect: connect, listen: listen, model: model, vocabularySize: vocabSize, timeout: timeout)
            let report = try WorkerConformance.run(options: options, command: command.isEmpty ? nil : command)
            StandardOutput.write(report.text)
            if !report.isPassing { throw ExitCode.failure }
        }
    }
}
