import Foundation
import ServingTypes

extension RouterClient {
    /// `GET /workers`: every registered worker with its load and cache figures.
    public func workers() throws -> [WorkerStatus] {
        let request = "GET /workers"
        return try decode(WorkerList.self, from: http.send("GET", "/workers").checked(request), request: request).workers
    }

    /// `POST /workers`: asks the router to connect to a worker started with `--listen` at
    /// `endpoint` (e.g. `tcp://10.0.0.5:7000`); returns the worker as registered.
    public func addWorker(endpoint: String) throws -> WorkerStatus {
        let request = "POST /workers"
        let body = try encode(["endpoint": endpoint])
        let response = try http.send("POST", "/workers", json: body).checked(request)
        return try decode(WorkerStatus.self, from: response, request: request)
    }

    /// `DELETE /workers/{id}`: stops routing to the worker and disconnects it.
    public func removeWorker(id: String) throws {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove("/")
        let escaped = id.addingPercentEncoding(withAllowedCharacters: allowed) ?? id
        _ = try http.send("DELETE", "/workers/\(escaped)").checked("DELETE /workers/\(id)")
    }
}
