import Foundation
import ServingClient
import ServingTypes
import Testing
import TestSupport

/// `radixserve up`: one command brings up a router and workers on the bundled model; Ctrl-C
/// stops them all.
@Suite struct UpCommandTests {
    @Test func upServesTheDemoModelAndCtrlCStopsEveryProcess() throws {
        let up = try ChildProcess(["up", "--workers", "2", "--http-port", "0", "--kv-memory", "64M"])
        defer { up.signal(SIGKILL) }
        let started = try #require(up.outputLine(containing: "pids", timeout: 60), "\(up.standardError)")
        let pids = started.components(separatedBy: "pids ").last!.prefix { $0 != ")" }
            .split(separator: ",").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
        #expect(pids.count == 2)
        // The workers' socket lives in a fresh directory only this user can enter.
        let temporary = FileManager.default.temporaryDirectory
        let socketDirectories = try FileManager.default.contentsOfDirectory(atPath: temporary.path)
            .filter { $0.hasPrefix("radixserve-up-\(up.process.processIdentifier)-") }
        #expect(socketDirectories.count == 1)
        for name in socketDirectories {
            let attributes = try FileManager.default.attributesOfItem(atPath: temporary.appendingPathComponent(name).path)
            #expect((attributes[.posixPermissions] as? Int) == 0o700)
        }
        let line = try #require(up.outputLine(containing: "Ctrl-C", timeout: 120), "\(up.standardError)")
        // Its workers share this host's cores, so cache-aware dispatch weighs recomputation.
        #expect(line.contains("(cache-aware dispatch, recompute weight 2)"), "\(line)")
        let range = try #require(line.range(of: #"http://[0-9.]+:[0-9]+"#, options: .regularExpression))
        let client = RouterClient(url: try ServingURL(String(line[range])))
        let answer = try client.chat(ChatCompletionRequest(
            model: nil, messages: [ChatMessage(role: "user", content: "Where does Mira live?")],
            sampling: SamplingFields(maxTokens: 32, temperature: 0)))
        #expect(answer.text.hasPrefix("She lives in a small blue house by the Silver River."))

        up.signal(SIGINT)
        #expect(up.finish(timeout: 30) != nil, "up did not stop on SIGINT")
        for pid in pids {
            #expect(up.wait(until: { !ChildProcess.isAlive(pid) }, timeout: 10), "worker \(pid) outlived `up`")
        }
    }

    /// `up --backend plugin:PATH`: the workers run the reference C plugin (one worker) or the
    /// OpenCL plugin on PoCL (two) and answer as on the CPU.
    @Test(arguments: Fixtures.pluginBackends)
    func upRunsWorkersOnAPlugin(backend: String) throws {
        let isReference = backend == Fixtures.referencePluginBackend
        let up = try ChildProcess([
            "up", "--workers", isReference ? "1" : "2", "--http-port", "0", "--kv-memory", "64M", "--backend", backend,
        ])
        defer { up.signal(SIGKILL) }
        let line = try #require(up.outputLine(containing: "Ctrl-C", timeout: 120), "\(up.standardError)")
        let range = try #require(line.range(of: #"http://[0-9.]+:[0-9]+"#, options: .regularExpression))
        let client = RouterClient(url: try ServingURL(String(line[range])))
        let answer = try client.chat(ChatCompletionRequest(
            model: nil, messages: [ChatMessage(role: "user", content: "Where does Mira live?")],
            sampling: SamplingFields(maxTokens: 32, temperature: 0)))
        #expect(answer.text.hasPrefix("She lives in a small blue house by the Silver River."))
        #expect(up.standardError.contains(isReference ? "device reference-c (accelerator" : "device opencl ("), "\(up.standardError)")
        up.signal(SIGINT)
        #expect(up.finish(timeout: 30) != nil, "up did not stop on SIGINT")
    }
}
