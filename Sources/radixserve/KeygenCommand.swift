import ArgumentParser
import Transport

/// `radixserve keygen`: a CURVE key pair for a router, worker or rank (README, "Security").
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen", abstract: "Write a CURVE key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub (public).")

    @Option(help: "Path prefix of the two files; existing files are never overwritten.")
    var out: String

    func run() throws {
        let keys = try CurveKeyPair.generate()
        do {
            let (secret, shared) = try keys.write(prefix: out)
            StandardOutput.write("wrote \(secret) (secret, keep it private) and \(shared) (public key \(keys.publicKey))\n")
        } catch { throw ValidationError(error.message) }
    }
}
