import Foundation
import ServingTypes

/// Typed calls to a RadixServe router's HTTP API (OpenAI-compatible completions and chat, models,
/// health, metrics, worker administration, cache flush).
///
/// Every call blocks its thread (see ``ServingHTTPClient``) and uses its own connection, so one
/// value may be shared by many threads. Failures throw ``ServingClientError``: connection problems name the URL, 4xx/5xx
/// responses carry the status and the server's `error.message`.
public struct RouterClient: Sendable {
    /// The underlying HTTP client (URL and timeouts).
    public var http: ServingHTTPClient

    public init(http: ServingHTTPClient) {
        self.http = http
    }

    /// A client for `url`; `readTimeout` bounds each wait for response bytes; `apiKey` goes out as
    /// `Authorization: Bearer`; `trust` says which CAs an `https` router's certificate may chain to.
    public init(
        url: ServingURL, connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(600), apiKey: String? = nil,
        trust: ServingTrust = .system
    ) {
        http = ServingHTTPClient(url: url, connectTimeout: connectTimeout, readTimeout: readTimeout, apiKey: apiKey, trust: trust)
    }

    /// The server's base URL.
    public var url: ServingURL { http.url }

    /// `GET /v1/models`: the served models.
    public func models() throws -> [ModelCard] {
        let request = "GET /v1/models"
        return try decode(ModelList.self, from: http.send("GET", "/v1/models").checked(request), request: request).data
    }

    /// `name`, or else the first model the router serves (`GET /v1/models`); nil when no name is
    /// given and the router lists none.
    public func modelName(_ name: String?) throws -> String? {
        if let name { return name }
        return try models().first?.id
    }

    /// `GET /health`: true on 200, false on 503 (no routable worker); other statuses throw.
    public func isHealthy() throws -> Bool {
        let response = try http.send("GET", "/health")
        if response.status == 503 { return false }
        _ = try response.checked("GET /health")
        return true
    }

    /// `GET /metrics`: the Prometheus text exposition.
    public func metrics() throws -> String {
        try http.send("GET", "/metrics").checked("GET /metrics").text
    }

    /// `POST /flush_cache`: drops every worker's prefix cache (and the router's index of it).
    public func flushCache() throws {
        _ = try http.send("POST", "/flush_cache").checked("POST /flush_cache")
    }

    /// Decodes a JSON body, naming `request` if it does not match `type`.
    func decode<Value: Decodable>(_ type: Value.Type, from response: HTTPResponse, request: String) throws -> Value {
        do {
            return try JSONDecoder().decode(type, from: response.body)
        } catch {
            throw ServingClientError.malformedResponse(
                "the response to \(request) is not the expected JSON (\(error)): \(response.text.prefix(200))")
        }
    }

    /// Encodes a request body.
    func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}
