import Foundation
import ServingClient
import ServingTypes
import Testing
import TestSupport

/// A router started with API keys: 401 without or with a wrong key, 403 for an ordinary key on an
/// admin endpoint, served with the right key (also through the official `openai` client), and a
/// bad key file stops it at start.
@Suite struct APIKeyClusterTests {
    static let userKey = "sk-user-key-0001"
    static let adminKey = "sk-admin-key-001"

    @Test func keysAreEnforcedAndTheOpenAIClientServesWithOne() throws {
        let cluster = try LocalCluster(
            workerCount: 1, routerArguments: ["--api-key", Self.userKey, "--admin-api-key", Self.adminKey], apiKey: Self.adminKey)
        let url = try ServingURL(cluster.url)
        func status(_ method: String, _ path: String, key: String?, body: String? = nil) throws -> Int {
            try ServingHTTPClient(url: url, apiKey: key).send(method, path, json: body.map { Data($0.utf8) }).status
        }
        let completion = #"{"prompt":"Hello","max_tokens":2,"temperature":0}"#
        #expect(try status("POST", "/v1/completions", key: nil, body: completion) == 401)
        #expect(try status("POST", "/v1/completions", key: "sk-wrong-key-0001", body: completion) == 401)
        #expect(try status("POST", "/v1/completions", key: Self.userKey, body: completion) == 200)
        #expect(try status("GET", "/workers", key: Self.userKey) == 403)
        #expect(try status("POST", "/flush_cache", key: Self.userKey) == 403)
        #expect(try status("GET", "/workers", key: Self.adminKey) == 200)
        #expect(try status("GET", "/health", key: nil) == 200)

        let script = """
            import sys, openai
            base = sys.argv[1] + "/v1"
            good = openai.OpenAI(base_url=base, api_key=sys.argv[2], max_retries=0, timeout=120)
            text = good.completions.create(model=good.models.list().data[0].id, prompt="Hello", max_tokens=4, temperature=0)
            assert text.choices[0].text is not None
            try:
                openai.OpenAI(base_url=base, api_key="sk-wrong-key-0001", max_retries=0).models.list()
                sys.exit("a wrong key was accepted")
            except openai.AuthenticationError as error:
                assert error.status_code == 401
            print("ok")
            """
        guard try Python.requireModule("openai", package: "openai") else { return }
        let run = try Python.run(["-c", script, cluster.url, Self.userKey])
        #expect(run.status == 0 && run.output.contains("ok"), "\(run.error)")
    }

    @Test func badKeyFilesStopTheRouterAtStart() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("keys").path
        try "team-a sk-team-a-0001\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o644)
        for (arguments, message) in [
            (["--api-key-file", file], "readable by every user (mode 644)"),
            (["--api-key-file", directory.appendingPathComponent("missing").path], "No such file"),
            (["--api-key", "short"], "at least 8 characters"),
        ] {
            let router = try ChildProcess(["router", "--http-port", "0", "--worker-endpoint", "ipc://\(directory.path)/w"] + arguments)
            let status = router.finish(timeout: 30)
            #expect(status != nil && status != 0, "\(arguments)")
            #expect(router.standardError.contains(message), "\(arguments): \(router.standardError)")
        }
    }
}
