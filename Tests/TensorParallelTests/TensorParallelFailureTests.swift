import Certification
import Foundation
import Testing
import TestSupport

/// Failures of a tensor-parallel group: a rank dies, the leader dies, ranks disagree at startup.
@Suite(.serialized) struct TensorParallelFailureTests {
    static func endpoint() -> String { "ipc:///tmp/rxs-tp-test-\(UUID().uuidString.prefix(8))" }

    /// A long streaming generation over `tp` ranks, so there is time to kill something mid-way.
    static func longGeneration(tp: Int) throws -> ChildProcess {
        let prompts = try ModelReference.load("llama-tp4").prompts.prefix(3).flatMap { ["--prompt", $0.text] }
        return try ChildProcess(
            ["generate", "--model", Fixtures.model("llama-tp4").path, "--max-tokens", "480", "--ignore-eos",
             "--threads", "1", "--tp", "\(tp)", "--tp-timeout", "4"] + prompts + prompts + prompts)
    }

    /// ``longGeneration(tp:)`` once its ranks started and it printed tokens, with the ranks' pids.
    static func streamingLeader(tp: Int) throws -> (ChildProcess, [Int32]) {
        let leader = try longGeneration(tp: tp)
        #expect(leader.wait(until: { leader.rankPIDs.count == tp - 1 && !leader.standardOutput.isEmpty }, timeout: 60),
            "\(leader.standardError)")
        let pids = leader.rankPIDs
        try #require(pids.count == tp - 1)
        return (leader, pids)
    }

    @Test func killingARankStopsTheWholeGroupWithAClearError() throws {
        let (leader, pids) = try Self.streamingLeader(tp: 4)
        kill(pids[0], SIGKILL)
        let start = Date()
        let status = leader.finish(timeout: 30)
        #expect(status != nil && status != 0, "leader should fail, not hang: \(leader.standardError)")
        #expect(Date().timeIntervalSince(start) < 15)
        #expect(leader.standardError.contains("rank 1"), "\(leader.standardError)")
        #expect(leader.standardError.contains("gone or not responding"), "\(leader.standardError)")
        for pid in pids { #expect(!ChildProcess.isAlive(pid), "rank pid \(pid) left behind") }
    }

    /// SIGTERM to a rank: it leaves after its step, closing its sockets, and the leader fails at
    /// once naming it instead of waiting for a timeout.
    @Test func aTerminatedRankLeavesAndTheLeaderNamesIt() throws {
        let (leader, pids) = try Self.streamingLeader(tp: 2)
        kill(pids[0], SIGTERM)
        let status = leader.finish(timeout: 30)
        #expect(status != nil && status != 0, "\(leader.standardError)")
        #expect(leader.standardError.contains("received SIGTERM; shutting down"), "\(leader.standardError)")
        #expect(leader.standardError.contains("rank 1"), "\(leader.standardError)")
        #expect(!ChildProcess.isAlive(pids[0]))
    }

    @Test func killingTheLeaderStopsItsRanks() throws {
        let (leader, pids) = try Self.streamingLeader(tp: 2)
        kill(leader.process.processIdentifier, SIGKILL)
        _ = leader.finish(timeout: 10)
        let deadline = Date().addingTimeInterval(10)
        while pids.contains(where: ChildProcess.isAlive) && Date() < deadline { usleep(20_000) }
        for pid in pids { #expect(!ChildProcess.isAlive(pid), "rank pid \(pid) outlived its leader") }
    }

    @Test func interruptingTheLeaderStopsItsRanks() throws {
        let (leader, pids) = try Self.streamingLeader(tp: 2)
        kill(leader.process.processIdentifier, SIGINT)
        let status = leader.finish(timeout: 10)
        #expect(status == 130, "\(leader.standardError)")
        for pid in pids { #expect(!ChildProcess.isAlive(pid), "rank pid \(pid) outlived an interrupted leader") }
    }

    /// Rank 0 and a hand-started rank 1 that disagree (model, wire version, group size, weight
    /// quantization): both fail quickly, naming the difference.
    @Test(arguments: [
        (["--model", Fixtures.model("qwen3-qknorm").path], "loaded a different model"),
        (["--model", Fixtures.model("llama-tp4").path, "--wire-version", "2"], "speaks wire protocol v2"),
        (["--model", Fixtures.model("llama-tp4").path, "--tp", "3"], "world size 3"),
        (["--model", Fixtures.model("llama-tp4").path, "--quantize", "int8"], "with int8 weights"),
    ])
    func mismatchedRanksAreRefused(rankArguments: [String], expected: String) throws {
        let endpoint = Self.endpoint()
        let leader = try ChildProcess(
            ["generate", "--model", Fixtures.model("llama-tp4").path, "--prompt", "hi", "--threads", "1",
             "--tp", "2", "--tp-endpoint", endpoint, "--tp-timeout", "10"])
        let hasTP = rankArguments.contains("--tp")
        let rank = try ChildProcess(
            ["rank", "--rank", "1", "--leader", endpoint, "--threads", "1", "--timeout", "10"]
                + (hasTP ? [] : ["--tp", "2"]) + rankArguments)
        let leaderStatus = leader.finish(timeout: 30)
        let rankStatus = rank.finish(timeout: 30)
        #expect(leaderStatus != nil && leaderStatus != 0)
        #expect(rankStatus != nil && rankStatus != 0)
        #expect(leader.standardError.contains(expected), "leader: \(leader.standardError)")
        #expect(leader.standardOutput.isEmpty)
        if !hasTP { #expect(rank.standardError.contains(expected), "rank: \(rank.standardError)") }
    }
}
