// RadixServe: /health, /metrics, /v1/models, /workers, /flush_cache.

import Foundation
import HTTPTypes
import Hummingbird
import RouterService
import ServingTypes

extension RouterHTTPServer {
    func health() -> Response {
        let routable = coordinator.routableWorkerCount
        struct Health: Encodable {
            var status: String
            var routableWorkers: Int
            enum CodingKeys: String, CodingKey {
                case status
                case routableWorkers = "routable_workers"
            }
        }
        return JSONBody.response(
            Health(status: routable > 0 ? "ok" : "no routable workers", routableWorkers: routable),
            status: routable > 0 ? .ok : .serviceUnavailable)
    }

    func metrics() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: coordinator.metricsText() + admission.metricsText())))
    }

    func models() -> Response {
        JSONBody.response(ModelList(data: [
            ModelCard(
                id: model.id, created: model.created, ownedBy: "radixserve", maxModelLength: model.maxModelLength,
                vocabularySize: model.vocabularySize, isDeterministic: coordinator.isDeterministic)
        ]))
    }

    func listWorkers() -> Response {
        JSONBody.response(WorkerList(workers: coordinator.workers()))
    }

    func addWorker(_ request: Request) async throws -> Response {
        var request = request
        let body = try await JSONBody.decode(AddWorkerRequest.self, from: &request)
        guard body.endpoint.hasPrefix("tcp://") || body.endpoint.hasPrefix("ipc://") else {
            throw APIError.invalid("endpoint '\(body.endpoint)' must start with tcp:// or ipc://", param: "endpoint")
        }
        do {
            let status = try await coordinator.connectWorker(endpoint: body.endpoint)
            return JSONBody.response(status, status: .created)
        } catch let error as RouterServiceError {
            throw APIError(.badGateway, error.message, param: "endpoint", code: "worker_unreachable")
        }
    }

    func removeWorker(id text: String?) -> Response {
        guard let text, let id = UInt32(text) else {
            return APIError.invalid("worker id '\(text ?? "")' is not a number", param: "id").response
        }
        guard coordinator.removeWorker(id) else {
            return APIError(.notFound, "no worker with id \(id)", param: "id", code: "worker_not_found").response
        }
        struct Removed: Encodable { var removed: UInt32 }
        return JSONBody.response(Removed(removed: id))
    }

    func flushCache() -> Response {
        struct Flushed: Encodable {
            var flushedWorkers: Int
            enum CodingKeys: String, CodingKey { case flushedWorkers = "flushed_workers" }
        }
        return JSONBody.response(Flushed(flushedWorkers: coordinator.flushCache()))
    }
}
