import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RouterHTTP
import Testing
import TestSupport

/// API keys: who may call which endpoint, and how keys are read.
@Suite struct APIKeyTests {
    static let access = APIAccess(
        userKeys: [.init(name: "alice", secret: "sk-alice-0001"), .init(name: "bob", secret: "sk-bob-00002")],
        adminKeys: [.init(name: "admin", secret: "sk-admin-0003")],
        metricsKeys: [.init(name: "metrics", secret: "sk-metrics-04")])

    @Test func decisionsFollowTheTable() {
        let access = Self.access
        func decide(_ path: String, _ key: String?) -> APIAccess.Decision {
            access.decide(path: path, authorization: key.map { "Bearer \($0)" })
        }
        #expect(decide("/health", nil) == .allowed(key: nil))
        #expect(decide("/v1/completions", "sk-alice-0001") == .allowed(key: "alice"))
        #expect(decide("/generate", "sk-bob-00002") == .allowed(key: "bob"))
        #expect(decide("/v1/chat/completions", "sk-admin-0003") == .allowed(key: "admin"))
        #expect(decide("/v1/models", nil) == .unauthorized("missing API key: send it as 'Authorization: Bearer KEY'"))
        #expect(decide("/v1/models", "sk-alice-0002") == .unauthorized("invalid API key"))
        #expect(decide("/v1/models", "sk-alice-000") == .unauthorized("invalid API key"), "a prefix of a key is not the key")
        #expect(decide("/workers", "sk-admin-0003") == .allowed(key: "admin"))
        #expect(decide("/workers/3?x=1", "sk-admin-0003") == .allowed(key: "admin"))
        guard case .forbidden = decide("/flush_cache", "sk-alice-0001") else { Issue.record("user key on an admin endpoint"); return }
        guard case .unauthorized = decide("/workers", nil) else { Issue.record("no key on an admin endpoint"); return }
        #expect(decide("/metrics", "sk-metrics-04") == .allowed(key: "metrics"))
        #expect(decide("/metrics", "sk-admin-0003") == .allowed(key: "admin"))
        guard case .forbidden = decide("/metrics", "sk-bob-00002") else { Issue.record("user key on /metrics"); return }
        #expect(access.decide(path: "/v1/models", authorization: "Basic sk-alice-0001") != .allowed(key: "alice"))
        #expect(access.decide(path: "/v1/models", authorization: "bearer   sk-alice-0001") == .allowed(key: "alice"))
    }

    @Test func unsetKindsStayOpenAndAdminWithoutAnAdminKeyIsRefused() {
        let users = APIAccess(userKeys: [.init(name: "a", secret: "sk-user-00001")])
        #expect(users.decide(path: "/metrics", authorization: nil) == .allowed(key: nil))
        guard case .forbidden(let message) = users.decide(path: "/workers", authorization: "Bearer sk-user-00001") else {
            Issue.record("admin endpoint open to a user key")
            return
        }
        #expect(message.contains("--admin-api-key"))
        let adminOnly = APIAccess(adminKeys: [.init(name: "admin", secret: "sk-admin-0001")])
        #expect(adminOnly.decide(path: "/v1/completions", authorization: nil) == .allowed(key: nil))
        #expect(APIAccess.open.decide(path: "/flush_cache", authorization: nil) == .allowed(key: nil))
    }

    @Test func keysAreReadFromFlagsFilesAndTheEnvironment() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("keys").path
        try "# tenants\nteam-a sk-team-a-001\n\nsk-anonymous-02\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o600)
        let access = try APIAccess.load(
            userKeys: ["sk-flag-key-01"], keyFiles: [file], adminKeys: ["sk-admin-key-1"],
            environment: ["RADIXSERVE_API_KEY": "sk-from-env-01"])
        #expect(access.userKeys.map(\.name) == ["key-1", "env", "team-a", "\(file):4"])
        #expect(access.decide(path: "/generate", authorization: "Bearer sk-team-a-001") == .allowed(key: "team-a"))
        #expect(access.decide(path: "/generate", authorization: "Bearer sk-from-env-01") == .allowed(key: "env"))
    }

    @Test func badKeysAndKeyFilesFailNamingTheProblem() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("keys").path
        func failure(_ load: () throws -> APIAccess) -> String {
            do {
                _ = try load()
                return "loaded"
            } catch { return "\(error)" }
        }
        #expect(failure { try APIAccess.load(userKeys: ["short"], environment: [:]) }.contains("at least 8 characters"))
        #expect(failure { try APIAccess.load(userKeys: ["has a space"], environment: [:]) }.contains("visible ASCII"))
        #expect(failure { try APIAccess.load(userKeys: ["sk-same-key-1"], adminKeys: ["sk-same-key-1"], environment: [:]) }
            .contains("are the same key"))
        #expect(failure { try APIAccess.load(keyFiles: [file], environment: [:]) }.contains("No such file"))
        try "team-a sk-team-a-001\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o644)
        #expect(failure { try APIAccess.load(keyFiles: [file], environment: [:]) }.contains("readable by every user (mode 644)"))
        chmod(file, 0o600)
        try "a b c d e\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o600)
        #expect(failure { try APIAccess.load(keyFiles: [file], environment: [:]) }.contains("line 1: expected 'KEY' or 'NAME KEY ["))
        try "# nothing\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o600)
        #expect(failure { try APIAccess.load(keyFiles: [file], environment: [:]) }.contains("holds no key"))
    }

    @Test func theServerAnswers401And403WithOpenAIErrorsAndServesWithAKey() async throws {
        try await RouterHarness.run(access: Self.access) { harness, client in
            _ = try await harness.worker { _ in .generate([Served.generatedIDs]) }
            let body = ByteBuffer(string: #"{"prompt":"Hello world","max_tokens":4}"#)
            let missing = try await client.execute(
                uri: "/v1/completions", method: .post, headers: [.contentType: "application/json"], body: body)
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[.wwwAuthenticate] == "Bearer")
            let error = try #require(try missing.json()["error"] as? [String: Any])
            #expect(error["code"] as? String == "invalid_api_key" && error["type"] as? String == "invalid_request_error")
            let wrong = try await client.execute(
                uri: "/v1/completions", method: .post,
                headers: [.contentType: "application/json", .authorization: "Bearer sk-wrong-key-9"], body: body)
            #expect(wrong.status == .unauthorized)
            let served = try await client.execute(
                uri: "/v1/completions", method: .post,
                headers: [.contentType: "application/json", .authorization: "Bearer sk-alice-0001"], body: body)
            #expect(served.status == .ok)
            let admin = try await client.execute(uri: "/flush_cache", method: .post, headers: [.authorization: "Bearer sk-alice-0001"])
            #expect(admin.status == .forbidden)
            #expect(try await client.get("/health").status == .ok)
            #expect(try await client.get("/metrics").status == .unauthorized)
            let flushed = try await client.execute(uri: "/flush_cache", method: .post, headers: [.authorization: "Bearer sk-admin-0003"])
            #expect(flushed.status == .ok)
        }
    }
}
