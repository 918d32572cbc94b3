import ArgumentParser
import Transport

/// `radixserve keygen`: a CURVE key pair for a router, worker or rank (README, "Security").
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen", abstract: "Write a CURVE key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub (public).")

    @Option(help: "Path prefix of the two files; existing files are never overwritten.") var out: String

    func run() throws {
        do { StandardOutput.write(try CurveKeyPair.generateFiles(prefix: out)) } catch { throw ValidationError(error.message) }
    }
}
