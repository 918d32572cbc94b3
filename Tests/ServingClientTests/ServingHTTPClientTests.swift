import Foundation
import Synchronization
@testable import ServingClient
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The blocking HTTP client (AsyncHTTPClient underneath) against a scripted loopback server.
@Suite struct ServingHTTPClientTests {
    private func client(_ server: ScriptedHTTPServer, readTimeout: Duration = .seconds(10)) throws -> ServingHTTPClient {
        ServingHTTPClient(url: try ServingURL(server.url), connectTimeout: .seconds(5), readTimeout: readTimeout)
    }

    /// Splits `bytes` into steps of the given sizes (the rest in one last step), pausing between
    /// them so each arrives separately.
    private func pieces(_ bytes: [UInt8], sizes: [Int]) -> [ScriptedHTTPServer.Step] {
        var steps: [ScriptedHTTPServer.Step] = []
        var start = 0
        for size in sizes where start < bytes.count {
            let end = min(start + size, bytes.count)
            steps += [.send(Array(bytes[start..<end])), .pause(.milliseconds(2))]
            start = end
        }
        if start < bytes.count { steps.append(.send(Array(bytes[start...]))) }
        return steps
    }

    @Test func sendsTheRequestWithContentLengthAndReadsAContentLengthBody() throws {
        let server = try ScriptedHTTPServer { _ in [.send(ScriptedHTTPServer.response(body: #"{"ok":true}"#))] }
        defer { server.stop() }
        let body = Data(#"{"prompt":"hé"}"#.utf8)
        let response = try client(server).send("POST", "/v1/completions", json: body)
        #expect(response.status == 200)
        #expect(response.value(for: "content-type") == "application/json")
        #expect(response.text == #"{"ok":true}"#)
        let request = try #require(server.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/v1/completions")
        #expect(request.headers["content-length"] == "\(body.count)")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["host"] == "127.0.0.1:\(server.port)")
        #expect(request.body == body)
        #expect(request.headers["authorization"] == nil)
    }

    /// One client, many requests in flight at once (a benchmark's threads): none waits for another's
    /// connection, so none runs into the connect timeout while the others are answered slowly.
    @Test func manyRequestsInFlightAtOnceEachGetAConnection() throws {
        let server = try ScriptedHTTPServer { _ in [.pause(.milliseconds(1500)), .send(ScriptedHTTPServer.response(body: "{}"))] }
        defer { server.stop() }
        let shared = ServingHTTPClient(url: try ServingURL(server.url), connectTimeout: .milliseconds(500), readTimeout: .seconds(10))
        let statuses = Mutex<[Int]>([])
        let group = DispatchGroup()
        for _ in 0..<24 {
            group.enter()
            Thread.detachNewThread {
                let status = (try? shared.send("GET", "/health").status) ?? -1
                statuses.withLock { $0.append(status) }
                group.leave()
            }
        }
        #expect(group.wait(timeout: .now() + 30) == .success)
        #expect(statuses.withLock { $0 } == Array(repeating: 200, count: 24))
    }

    @Test func sendsTheAPIKeyAsABearerToken() throws {
        let server = try ScriptedHTTPServer { _ in [.send(ScriptedHTTPServer.response(body: "{}"))] }
        defer { server.stop() }
        _ = try ServingHTTPClient(url: try ServingURL(server.url), apiKey: "sk-test-key-1").send("GET", "/v1/models")
        #expect(server.requests.first?.headers["authorization"] == "Bearer sk-test-key-1")
    }

    @Test func prefixesPathsWithTheURLsBasePath() throws {
        let server = try ScriptedHTTPServer { _ in [.send(ScriptedHTTPServer.response(body: "{}"))] }
        defer { server.stop() }
        _ = try ServingHTTPClient(url: try ServingURL(server.url + "/api/")).send("GET", "/v1/models")
        #expect(server.requests.first?.path == "/api/v1/models")
    }

    @Test(arguments: [[1], [3, 1, 1, 7], [40, 1, 2, 3, 4, 5, 6], [10_000]])
    func readsAChunkedBodySplitAnywhere(sizes: [Int]) throws {
        let head = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Note: a;b\r\n\r\n".utf8)
        let body = ScriptedHTTPServer.chunk(Array("hello, ".utf8))
            + Array("D;ext=1\r\nchunked wörl\r\n1\r\nd\r\n0\r\nX-Trailer: t\r\n\r\n".utf8)
        let script = pieces(head + body, sizes: sizes)
        let server = try ScriptedHTTPServer { _ in script }
        defer { server.stop() }
        let response = try client(server).send("GET", "/x")
        #expect(response.text == "hello, chunked wörld")
        #expect(response.value(for: "x-note") == "a;b")
    }

    @Test func readsABodyThatEndsAtConnectionCloseAndSkipsInterimResponses() throws {
        let bytes = Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nuntil close".utf8)
        let server = try ScriptedHTTPServer { _ in [.send(bytes)] }
        defer { server.stop() }
        #expect(try client(server).send("GET", "/x").text == "until close")
    }

    @Test func errorStatusCarriesTheServersMessage() throws {
        let server = try ScriptedHTTPServer { _ in
            [.send(ScriptedHTTPServer.errorResponse(
                status: 400, reason: "Bad Request", message: "prompt is longer than 2048 tokens",
                type: "invalid_request_error"))]
        }
        defer { server.stop() }
        let response = try client(server).send("POST", "/v1/completions", json: Data("{}".utf8))
        #expect(response.status == 400)
        let error = try #require(throws: ServingClientError.self) { try response.checked("POST /v1/completions") }
        #expect(error.code == .httpStatus)
        #expect(error.status == 400)
        #expect(error.serverMessage == "prompt is longer than 2048 tokens [invalid_request_error]")
        #expect(error.description
            == "POST /v1/completions failed with HTTP 400 Bad Request: prompt is longer than 2048 tokens [invalid_request_error]")
    }

    @Test func errorStatusWithoutJSONShowsTheBodyText() throws {
        let server = try ScriptedHTTPServer { _ in
            [.send(ScriptedHTTPServer.response(status: 502, reason: "Bad Gateway", contentType: "text/plain", body: "upstream down\n"))]
        }
        defer { server.stop() }
        let error = try #require(throws: ServingClientError.self) {
            try client(server).send("GET", "/health").checked("GET /health")
        }
        #expect(error.status == 502)
        #expect(error.serverMessage == nil)
        #expect(error.description == "GET /health failed with HTTP 502 Bad Gateway: upstream down")
    }

    @Test func connectionRefusedNamesTheURL() throws {
        let port = try ScriptedHTTPServer.unusedPort()
        let client = ServingHTTPClient(url: try ServingURL("http://127.0.0.1:\(port)"), connectTimeout: .seconds(2))
        let error = try #require(throws: ServingClientError.self) { try client.send("GET", "/health") }
        #expect(error.code == .connectionFailed)
        #expect(error.description == "could not connect to http://127.0.0.1:\(port): connection refused")
    }

    #if canImport(Glibc)
    /// Linux queues backlog + 1 connections on a listener that never accepts and drops later SYNs,
    /// so the second connection attempt waits until the client gives up.
    @Test func connectTimesOutWhenTheServerNeverAccepts() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let isListening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 0) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        try #require(isListening)
        let url = try ServingURL("http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))")
        // The one connection the backlog holds; the client's is the next.
        let queued = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(queued) }
        let isQueued = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(queued, $0, length) == 0 }
        }
        try #require(isQueued)
        let start = ContinuousClock.now
        let error = try #require(throws: ServingClientError.self) {
            try ServingHTTPClient(url: url, connectTimeout: .milliseconds(250)).send("GET", "/health")
        }
        #expect(error.code == .timedOut)
        #expect(error.description == "timed out connecting to \(url)")
        #expect(ContinuousClock.now - start < .seconds(3))
    }
    #endif

    @Test func unresolvableHostIsAConnectionFailure() throws {
        let client = ServingHTTPClient(url: try ServingURL("http://no-such-host.invalid:8080"), connectTimeout: .seconds(5))
        let error = try #require(throws: ServingClientError.self) { try client.send("GET", "/health") }
        #expect(error.code == .connectionFailed)
        #expect(error.description.contains("no-such-host.invalid"))
    }

    @Test(arguments: [true, false])
    func serverClosingMidBodyIsAnErrorNotAHang(isChunked: Bool) throws {
        let partial = isChunked
            ? Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nonly six".utf8)
            : Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly six".utf8)
        let server = try ScriptedHTTPServer { _ in [.send(partial)] }
        defer { server.stop() }
        let start = ContinuousClock.now
        let error = try #require(throws: ServingClientError.self) { try client(server).send("GET", "/x") }
        #expect(error.code == .connectionClosed)
        #expect(error.description.contains("closed the connection"))
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func serverClosingWithoutAnsweringIsAnError() throws {
        let server = try ScriptedHTTPServer { _ in [] }
        defer { server.stop() }
        let error = try #require(throws: ServingClientError.self) { try client(server).send("GET", "/health") }
        #expect(error.code == .connectionClosed)
        #expect(error.description.contains("without answering GET /health"))
    }

    @Test func garbageIsAMalformedResponse() throws {
        let server = try ScriptedHTTPServer { _ in [.send(Array("SSH-2.0-OpenSSH\r\n\r\n".utf8))] }
        defer { server.stop() }
        let error = try #require(throws: ServingClientError.self) { try client(server).send("GET", "/x") }
        #expect(error.code == .malformedResponse)
    }

    @Test func silentServerTimesOut() throws {
        let server = try ScriptedHTTPServer { _ in [.send(Array("HTTP/1.1 200 OK\r\n".utf8)), .stall] }
        defer { server.stop() }
        let start = ContinuousClock.now
        let error = try #require(throws: ServingClientError.self) {
            try client(server, readTimeout: .milliseconds(200)).send("GET", "/x")
        }
        let elapsed = ContinuousClock.now - start
        #expect(error.code == .timedOut)
        #expect(error.description.contains("timed out"))
        #expect(elapsed >= .milliseconds(200) && elapsed < .seconds(5))
    }

    @Test func streamsEventsAsTheyArriveAndStopsWhenAsked() throws {
        let server = try ScriptedHTTPServer { _ in
            [
                .send(ScriptedHTTPServer.eventStreamHead()),
                .send(ScriptedHTTPServer.chunk(Array("data: one\n\nda".utf8))),
                .pause(.milliseconds(150)),
                .send(ScriptedHTTPServer.chunk(Array("ta: two\n\n".utf8))),
                .send(ScriptedHTTPServer.chunk(Array("data: three\n\n".utf8))),
                .stall,
            ]
        }
        defer { server.stop() }
        var events: [ServerSentEvent] = []
        try client(server).streamEvents("POST", "/v1/completions", json: Data("{}".utf8)) { event in
            events.append(event)
            return event.data != "two"
        }
        #expect(events.map(\.data) == ["one", "two"])
        #expect(events[1].arrival - events[0].arrival >= .milliseconds(100))
        #expect(server.requests.first?.headers["accept"] == "text/event-stream")
    }

    @Test func streamOfTheWrongContentTypeIsRejected() throws {
        let server = try ScriptedHTTPServer { _ in [.send(ScriptedHTTPServer.response(body: #"{"choices":[]}"#))] }
        defer { server.stop() }
        let error = try #require(throws: ServingClientError.self) {
            try client(server).streamEvents("POST", "/v1/completions", json: nil) { _ in true }
        }
        #expect(error.code == .malformedResponse)
        #expect(error.description.contains("application/json"))
    }
}
