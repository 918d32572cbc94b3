import Certification
import Foundation
import Testing
import TestSupport

/// A tensor-parallel group whose rendezvous and data sockets use CURVE: a hand-started rank with a
/// listed key gives the same greedy tokens as the reference (and as the plain group), and a rank
/// with an unlisted key is refused by rank 0's allowlist.
@Suite(.serialized) struct TensorParallelCurveTests {
    struct Line: Decodable {
        var tokenIDs: [Int32]
        enum CodingKeys: String, CodingKey { case tokenIDs = "token_ids" }
    }

    static func keygen(_ directory: URL, _ name: String) throws -> String {
        let prefix = directory.appendingPathComponent(name).path
        let outcome = try ProcessHarness.run(["keygen", "--out", prefix], timeout: 30)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        return prefix
    }

    /// Rank 0 (`generate`) and rank 1 (`rank`) over loopback TCP with CURVE; rank 1 uses `rankKey`.
    static func run(rankKey: String, directory: URL, prompt: String) throws -> (ChildProcess, ChildProcess) {
        let model = Fixtures.model("llama-tp4").path
        let endpoint = "tcp://127.0.0.1:\(Int.random(in: 20000..<60000))"
        let leader = try ChildProcess(
            ["generate", "--model", model, "--max-tokens", "32", "--ignore-eos", "--json", "--threads", "1", "--tp", "2",
             "--tp-endpoint", endpoint, "--tp-timeout", "8", "--prompt", prompt,
             "--tp-curve-secret-key", directory.appendingPathComponent("leader.key").path,
             "--tp-authorized-keys", directory.appendingPathComponent("listed.pub").path])
        let rank = try ChildProcess(
            ["rank", "--rank", "1", "--tp", "2", "--leader", endpoint, "--model", model, "--threads", "1", "--timeout", "8",
             "--curve-secret-key", rankKey + ".key", "--leader-public-key", directory.appendingPathComponent("leader.pub").path])
        return (leader, rank)
    }

    @Test func curveGroupGivesTheReferenceTokensAndRefusesAnUnlistedRank() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try Self.keygen(directory, "leader")
        let listed = try Self.keygen(directory, "listed")
        let stranger = try Self.keygen(directory, "stranger")
        let prompt = try ModelReference.load("llama-tp4").prompts[0]

        let (leader, rank) = try Self.run(rankKey: listed, directory: directory, prompt: prompt.text)
        #expect(leader.finish(timeout: 90) == 0, "\(leader.standardError)")
        #expect(rank.finish(timeout: 30) == 0, "\(rank.standardError)")
        let line = try JSONDecoder().decode(Line.self, from: Data(leader.standardOutput.utf8))
        #expect(line.tokenIDs == prompt.greedyTokenIDs)

        let (refusing, refused) = try Self.run(rankKey: stranger, directory: directory, prompt: prompt.text)
        let status = refusing.finish(timeout: 60)
        _ = refused.finish(timeout: 60)
        #expect(status != nil && status != 0)
        let strangerKey = try String(contentsOfFile: stranger + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(refusing.standardError.contains("refused a rank connection"), "\(refusing.standardError)")
        #expect(refusing.standardError.contains(strangerKey), "\(refusing.standardError)")
    }
}
