import Foundation
import ServingClient
import Testing
import TestSupport

/// CURVE between router and workers (README, "Security"): a listed worker serves, an unlisted one
/// is refused at the handshake and named in the router's log, and a relay on the wire sees no
/// prompt and no frame magic, where the same relay sees both without CURVE. Also the safe defaults
/// (loopback worker endpoint, `--insecure-transport`) and key files that stop a process at start.
@Suite(.serialized) struct CurveClusterTests {
    /// Prompt token ids (the demo model has 1607), as the router's `submit` frame carries them.
    static let prompt = [1201, 1302, 1403, 1504, 1105, 1206, 1307, 1408]
    static var promptBytes: [UInt8] { prompt.flatMap { withUnsafeBytes(of: Int32($0).littleEndian) { Array($0) } } }

    /// `radixserve keygen --out directory/name`; returns the secret key file and the public key.
    static func keygen(_ directory: URL, _ name: String) throws -> (secretKeyFile: String, publicKey: String) {
        let prefix = directory.appendingPathComponent(name).path
        let outcome = try ProcessHarness.run(["keygen", "--out", prefix], timeout: 30)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let publicKey = try String(contentsOfFile: prefix + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return (prefix + ".key", publicKey)
    }

    /// A router on a free loopback TCP worker port; returns it, its HTTP URL and the worker port.
    static func startRouter(_ arguments: [String]) throws -> (ChildProcess, String, Int) {
        let router = try ChildProcess([
            "router", "--model", Fixtures.demoModel.path, "--http-port", "0", "--worker-endpoint", "tcp://127.0.0.1:*",
            "--heartbeat-ms", "100",
        ] + arguments)
        guard let line = router.outputLine(containing: "serving", timeout: 60),
            let http = line.range(of: #"http://[0-9.]+:[0-9]+"#, options: .regularExpression),
            let workers = line.range(of: #"tcp://127\.0\.0\.1:[0-9]+"#, options: .regularExpression),
            let port = Int(line[workers].split(separator: ":").last!)
        else { throw ClusterError("the router did not start: \(router.standardError)") }
        return (router, String(line[http]), port)
    }

    static func worker(router endpoint: String, _ extra: [String]) throws -> ChildProcess {
        try ChildProcess([
            "worker", "--router", endpoint, "--model", Fixtures.demoModel.path, "--threads", "1", "--kv-memory", "64M",
        ] + extra)
    }

    /// Waits for `count` routable workers, then runs the prompt greedily through `/generate`.
    static func serve(_ url: String, workers count: Int) throws -> String {
        let client = RouterClient(url: try ServingURL(url), readTimeout: .seconds(120))
        let deadline = Date().addingTimeInterval(120)
        while (try? client.workers())?.filter(\.isRoutable).count != count {
            guard Date() < deadline else { throw ClusterError("no routable worker within 120 s") }
            usleep(50_000)
        }
        let body = #"{"input_ids": \#(prompt), "sampling_params": {"max_new_tokens": 4, "temperature": 0}}"#
        let response = try ServingHTTPClient(url: try ServingURL(url)).send("POST", "/generate", json: Data(body.utf8))
        #expect(response.status == 200)
        return String(decoding: response.body, as: UTF8.self)
    }

    @Test func listedWorkerServesUnlistedIsRefusedAndTheWireIsUnreadable() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (routerKey, routerPublic) = try Self.keygen(directory, "router")
        let (listedKey, listedPublic) = try Self.keygen(directory, "listed")
        let (strangerKey, strangerPublic) = try Self.keygen(directory, "stranger")
        let authorized = directory.appendingPathComponent("workers").path
        try "# workers allowed to serve\n\(listedPublic) gpu-1\n".write(toFile: authorized, atomically: true, encoding: .utf8)

        let (router, url, port) = try Self.startRouter(["--curve-secret-key", routerKey, "--authorized-keys", authorized])
        defer { router.signal(SIGKILL) }
        #expect(router.standardOutput.contains("router public key \(routerPublic)"))
        let relay = try TCPRelay(target: port)
        defer { relay.stop() }
        let endpoint = "tcp://127.0.0.1:\(relay.port)"
        let listed = try Self.worker(router: endpoint, ["--curve-secret-key", listedKey, "--router-public-key", routerPublic])
        defer { listed.signal(SIGKILL) }
        let stranger = try Self.worker(
            router: endpoint, ["--curve-secret-key", strangerKey, "--router-public-key", routerPublic, "--registration-timeout", "3"])
        defer { stranger.signal(SIGKILL) }

        let answer = try Self.serve(url, workers: 1)
        #expect(answer.contains("\"text\""), "\(answer)")
        let status = stranger.finish(timeout: 60)
        #expect(status != nil && status != 0, "the unlisted worker should give up: \(stranger.standardError)")
        #expect(router.wait(until: { router.standardError.contains("refused a worker connection") }, timeout: 10))
        #expect(router.standardError.contains(strangerPublic), "\(router.standardError)")
        #expect(router.standardError.contains("is not in \(authorized)"), "\(router.standardError)")

        let wire = relay.bytes
        #expect(wire.count > 1000, "the relay carried \(wire.count) bytes")
        #expect(!wire.contains(bytes: Self.promptBytes), "the prompt crossed the wire in the clear")
        #expect(!wire.contains(bytes: Array("RXSW".utf8)), "frame headers crossed the wire in the clear")
    }

    @Test func withoutCurveTheSameRelayReadsThePrompt() throws {
        let (router, url, port) = try Self.startRouter([])
        defer { router.signal(SIGKILL) }
        let relay = try TCPRelay(target: port)
        defer { relay.stop() }
        let worker = try Self.worker(router: "tcp://127.0.0.1:\(relay.port)", [])
        defer { worker.signal(SIGKILL) }
        _ = try Self.serve(url, workers: 1)
        #expect(relay.bytes.contains(bytes: Self.promptBytes))
        #expect(relay.bytes.contains(bytes: Array("RXSW".utf8)))
    }

    @Test func exposedListenersNeedCurveOrInsecureTransport() throws {
        let model = ["--model", Fixtures.demoModel.path]
        let byDefault = try ChildProcess(["router", "--http-port", "0", "--worker-port", "0"] + model)
        defer { byDefault.signal(SIGKILL) }
        let line = byDefault.outputLine(containing: "workers connect to", timeout: 60) ?? byDefault.standardError
        #expect(line.contains("workers connect to tcp://127.0.0.1:"), "\(line)")

        for arguments in [
            ["router", "--http-port", "0", "--worker-endpoint", "tcp://0.0.0.0:*"] + model,
            ["worker", "--listen", "tcp://0.0.0.0:*"] + model,
            ["worker", "--router", "tcp://127.0.0.1:9", "--tp", "2", "--tp-endpoint", "tcp://0.0.0.0:*"] + model,
            ["rank", "--rank", "1", "--tp", "2", "--leader", "tcp://127.0.0.1:9", "--data-endpoint", "tcp://*:*"] + model,
        ] {
            let outcome = try ProcessHarness.run(arguments, timeout: 60)
            #expect(outcome.status != 0 && outcome.standardError.contains("reachable from other hosts without CURVE"), "\(arguments): \(outcome.standardError)")
        }
        let insecure = try ChildProcess(
            ["router", "--http-port", "0", "--worker-endpoint", "tcp://0.0.0.0:*", "--insecure-transport"] + model)
        defer { insecure.signal(SIGKILL) }
        #expect(insecure.outputLine(containing: "workers connect to tcp://0.0.0.0:", timeout: 60) != nil, "\(insecure.standardError)")
        #expect(insecure.standardError.contains("WARNING: --worker-endpoint tcp://0.0.0.0:* is reachable from other hosts"))
    }

    @Test func badKeyFilesStopRouterWorkerAndRankAtStart() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (goodKey, goodPublic) = try Self.keygen(directory, "good")
        let (openKey, _) = try Self.keygen(directory, "open")
        chmod(openKey, 0o644)
        let short = directory.appendingPathComponent("short.key").path
        FileManager.default.createFile(atPath: short, contents: Data(goodPublic.prefix(30).utf8), attributes: [.posixPermissions: 0o600])
        let missing = directory.appendingPathComponent("missing.key").path
        let authorized = directory.appendingPathComponent("good.pub").path
        let model = ["--model", Fixtures.demoModel.path]
        let cases: [(String, String)] = [
            (missing, "secret key file '\(missing)' does not exist"),
            (openKey, "secret key file '\(openKey)' is readable by group or others (mode 0644); run chmod 600"),
            (short, "secret key file '\(short)' holds a key of 30 characters; a Z85 CURVE key has 40"),
        ]
        for (file, message) in cases {
            for arguments in [
                ["router", "--http-port", "0", "--worker-port", "0", "--curve-secret-key", file, "--authorized-keys", authorized],
                ["worker", "--router", "tcp://127.0.0.1:9", "--curve-secret-key", file, "--router-public-key", goodPublic],
                ["rank", "--rank", "1", "--tp", "2", "--leader", "tcp://127.0.0.1:9", "--curve-secret-key", file, "--leader-public-key", goodPublic],
            ] {
                let outcome = try ProcessHarness.run(arguments + model, timeout: 60)
                #expect(outcome.status != 0 && outcome.standardError.contains(message), "\(arguments): \(outcome.standardError)")
            }
        }
        let outcome = try ProcessHarness.run(
            ["router", "--http-port", "0", "--worker-port", "0", "--curve-secret-key", goodKey, "--authorized-keys", short] + model)
        #expect(outcome.status != 0 && outcome.standardError.contains("is not a Z85 CURVE public key"), "\(outcome.standardError)")
    }
}
