import Foundation
import ServingClient
import ServingTypes
import Synchronization
import Testing
import TestSupport

/// Per-key limits on a real router and worker: a burst from a limited key gets 429s with
/// `Retry-After` while another key is served, and every admitted request finishes exactly once
/// with the tokens it gets alone.
@Suite struct AdmissionClusterTests {
    struct Answer: Sendable {
        var key: String
        var prompt: String
        var status: Int
        var retryAfter: String?
        var text: String?
        var code: String?
    }

    @Test func aBurstFromOneKeyIsLimitedAndNothingAdmittedIsLostOrDoubled() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keys = directory.appendingPathComponent("keys").path
        try "burst sk-burst-key-01 max_concurrent_requests=2\nsteady sk-steady-key-1\n".write(toFile: keys, atomically: true, encoding: .utf8)
        chmod(keys, 0o600)
        let cluster = try LocalCluster(
            workerCount: 1,
            routerArguments: ["--api-key-file", keys, "--admin-api-key", "sk-admin-key-01", "--max-running-requests", "3"],
            apiKey: "sk-admin-key-01")
        let url = try ServingURL(cluster.url)
        @Sendable func send(_ key: String, _ prompt: String) -> Answer {
            let body = #"{"prompt":"\#(prompt)","max_tokens":6,"temperature":0}"#
            do {
                let response = try ServingHTTPClient(url: url, apiKey: key).send("POST", "/v1/completions", json: Data(body.utf8))
                let json = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any]
                let text = ((json?["choices"] as? [[String: Any]])?.first?["text"] as? String)
                let code = (json?["error"] as? [String: Any])?["code"] as? String
                let retryAfter = response.headers.first { $0.name.lowercased() == "retry-after" }?.value
                return Answer(key: key, prompt: prompt, status: response.status, retryAfter: retryAfter, text: text, code: code)
            } catch {
                return Answer(key: key, prompt: prompt, status: -1, text: "\(error)")
            }
        }
        // 12 requests of the limited key and 4 of the other, all at once.
        let requests = (0..<12).map { ("sk-burst-key-01", "Burst request number \($0) asks") }
            + (0..<4).map { ("sk-steady-key-1", "Steady request number \($0) asks") }
        let answers = Mutex<[Answer]>([])
        let group = DispatchGroup()
        for (key, prompt) in requests {
            group.enter()
            Thread.detachNewThread {
                let answer = send(key, prompt)
                answers.withLock { $0.append(answer) }
                group.leave()
            }
        }
        #expect(group.wait(timeout: .now() + 300) == .success)
        let all = answers.withLock { $0 }
        #expect(all.count == requests.count)
        #expect(!all.contains { $0.status == -1 }, "\(all.filter { $0.status == -1 }.map(\.text))")
        let burst = all.filter { $0.key == "sk-burst-key-01" }
        let refused = burst.filter { $0.status == 429 }
        #expect(!refused.isEmpty, "12 requests at once from a key limited to 2 were all admitted")
        #expect(refused.allSatisfy { $0.retryAfter == "1" && $0.code == "concurrency_limit_exceeded" })
        #expect(burst.allSatisfy { $0.status == 200 || $0.status == 429 }, "\(burst.map(\.status))")
        #expect(all.filter { $0.key == "sk-steady-key-1" }.allSatisfy { $0.status == 200 }, "the other key is never refused")

        // Every admitted request got the answer it gets alone.
        let admitted = all.filter { $0.status == 200 }
        for answer in admitted {
            let alone = send("sk-steady-key-1", answer.prompt)
            #expect(alone.status == 200 && alone.text == answer.text, "\(answer.prompt)")
        }
        // Counted once each: what the router admitted is what reached the workers.
        let metrics = String(decoding: try ServingHTTPClient(url: url, apiKey: "sk-admin-key-01").send("GET", "/metrics").body, as: UTF8.self)
        let burstAdmitted = burst.count - refused.count
        #expect(metrics.contains(#"radixserve_router_key_requests_admitted_total{key="burst"} \#(burstAdmitted)"#), "\(metrics)")
        #expect(metrics.contains(#"radixserve_router_key_requests_rejected_total{key="burst",reason="concurrency"} \#(refused.count)"#))
        let steady = 4 + admitted.count
        #expect(metrics.contains(#"radixserve_router_key_requests_admitted_total{key="steady"} \#(steady)"#))
        #expect(metrics.contains("sglang:num_requests_total \(burstAdmitted + steady)"), "each admitted request dispatched once")
        #expect(metrics.contains("radixserve_router_admission_running 0") && metrics.contains("radixserve_router_admission_queued 0"))
    }
}
