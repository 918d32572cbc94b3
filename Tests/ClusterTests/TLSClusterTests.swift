import Foundation
import ServingClient
import ServingTypes
import Testing
import TestSupport

/// `up` with `--tls-cert-file`/`--tls-key-file`: served over HTTPS to `radixserve generate
/// --ca-file`, to the official `openai` client trusting the test CA, and refused by a client that
/// does not trust it; bad TLS flags stop the router at start.
@Suite struct TLSClusterTests {
    @Test func upServesHTTPSToTheCLIAndTheOpenAIClient() throws {
        let (ca, key) = (Fixtures.tls("ca.pem"), try Fixtures.privateTLSKey())
        let up = try ChildProcess([
            "up", "--workers", "1", "--http-port", "0", "--kv-memory", "64M", "--tls-cert-file", Fixtures.tls("server.pem"),
            "--tls-key-file", key,
        ])
        defer { up.signal(SIGKILL) }
        let line = try #require(up.outputLine(containing: "Ctrl-C", timeout: 120), "\(up.standardError)")
        let range = try #require(line.range(of: #"https://[0-9.]+:[0-9]+"#, options: .regularExpression), "\(line)")
        let url = String(line[range])
        #expect(up.standardOutput.contains("--cacert CA.pem"), "the ready message tells how to trust a private CA")

        let client = RouterClient(url: try ServingURL(url), readTimeout: .seconds(120), trust: try ServingTrust(caFile: ca))
        #expect(try client.isHealthy())

        let generate = try ChildProcess([
            "generate", "--url", url, "--ca-file", ca, "--prompt", "Mira lives", "--max-tokens", "4", "--temperature", "0",
        ])
        #expect(generate.finish(timeout: 120) == 0, "\(generate.standardError)")
        #expect(!generate.standardOutput.isEmpty)

        let untrusted = try ChildProcess(["generate", "--url", url, "--prompt", "Mira lives", "--max-tokens", "4"])
        #expect(untrusted.finish(timeout: 60) != 0, "\(untrusted.standardError)")
        #expect(untrusted.standardError.contains("certificate is not trusted"), "\(untrusted.standardError)")
        let plain = try ChildProcess(["generate", "--url", url.replacingOccurrences(of: "https", with: "http"), "--prompt", "Hi"])
        #expect(plain.finish(timeout: 60) != 0, "plain HTTP to the TLS port fails rather than hanging")
        #expect(plain.standardError.contains("use an https:// URL"), "\(plain.standardError)")
        #expect(try client.isHealthy(), "the server still serves after a plain-HTTP request")

        let script = """
            import sys, ssl, openai
            try:
                import httpx2 as httpx
            except ImportError:
                import httpx
            verify = ssl.create_default_context(cafile=sys.argv[2])
            client = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key="none", max_retries=0, timeout=120,
                                   http_client=httpx.Client(verify=verify))
            text = client.completions.create(model=client.models.list().data[0].id, prompt="Hello", max_tokens=4, temperature=0)
            assert text.choices[0].text is not None
            try:
                openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key="none", max_retries=0, timeout=30).models.list()
                sys.exit("a certificate from an untrusted CA was accepted")
            except openai.APIConnectionError:
                pass
            print("ok")
            """
        if try Python.requireModule("openai", package: "openai") {
            let run = try Python.run(["-c", script, url, ca])
            #expect(run.status == 0 && run.output.contains("ok"), "\(run.error)")
        }
        up.signal(SIGINT)
        #expect(up.finish(timeout: 30) != nil, "up did not stop on SIGINT")
    }

    @Test func badTLSFlagsStopTheRouterAtStart() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (cert, key) = (Fixtures.tls("server.pem"), try Fixtures.privateTLSKey())
        let readable = directory.appendingPathComponent("readable.key").path
        try FileManager.default.copyItem(atPath: key, toPath: readable)
        chmod(readable, 0o644)
        let missing = directory.appendingPathComponent("missing.pem").path
        for (arguments, message) in [
            (["--tls-cert-file", cert], "--tls-cert-file needs --tls-key-file"),
            (["--tls-cert-file", missing, "--tls-key-file", key], "--tls-cert-file \(missing): No such file"),
            (["--tls-cert-file", cert, "--tls-key-file", readable], "--tls-key-file \(readable): readable by other users"),
            (["--tls-cert-file", cert, "--tls-key-file", try Fixtures.privateTLSKey("other.key")], "does not match the certificate"),
        ] {
            let router = try ChildProcess(["router", "--http-port", "0", "--worker-endpoint", "ipc://\(directory.path)/w"] + arguments)
            let status = router.finish(timeout: 30)
            #expect(status != nil && status != 0, "\(arguments)")
            #expect(router.standardError.contains(message), "\(arguments): \(router.standardError)")
        }
        let client = try ChildProcess(["generate", "--url", "https://127.0.0.1:9", "--ca-file", missing, "--prompt", "Hi"])
        #expect(client.finish(timeout: 30) != 0)
        #expect(client.standardError.contains("--ca-file \(missing): no such file"), "\(client.standardError)")
    }
}
