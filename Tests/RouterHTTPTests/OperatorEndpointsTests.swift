import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import RouterService
import ServingTypes
import Testing
import WireProtocol

/// `/v1/models`, `/health`, `/metrics`, `/workers` and `/flush_cache`.
// A hang guard, not a speed check: on two cores the cooperative pool these tests await on is
// shared with long CPU-bound tests (parity) that hold it for minutes in a full run.
@Suite(.timeLimit(.minutes(10))) struct OperatorEndpointsTests {
    @Test func modelsListsTheServedModel() async throws {
        try await RouterHarness.run { _, client in
            let response = try await client.get("/v1/models")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            let body = try response.json()
            #expect(body["object"] as? String == "list")
            let models = try #require(body["data"] as? [JSONObject])
            #expect(models.count == 1)
            #expect(models[0]["id"] as? String == "llama-gqa")
            #expect(models[0]["object"] as? String == "model")
            #expect(models[0]["created"] as? Int == 1_700_000_000)
            #expect(models[0]["owned_by"] as? String == "radixserve")
            #expect(models[0]["max_model_len"] as? Int == 512)
            #expect(models[0]["vocab_size"] as? Int == 821)
        }
    }

    @Test func healthIs503WithoutARoutableWorkerAnd200WithOne() async throws {
        try await RouterHarness.run { harness, client in
            let down = try await client.get("/health")
            #expect(down.status == .serviceUnavailable)
            #expect(try down.json()["status"] as? String == "no routable workers")
            #expect(try down.json()["routable_workers"] as? Int == 0)
            _ = try await harness.worker { _ in .hold }
            let up = try await client.get("/health")
            #expect(up.status == .ok)
            #expect(try up.json()["status"] as? String == "ok")
            #expect(try up.json()["routable_workers"] as? Int == 1)
        }
    }

    @Test func metricsExportTheSGLangAndRouterNames() async throws {
        try await RouterHarness.run { harness, client in
            let worker = try await harness.worker { _ in .generate([Served.generatedIDs], cached: 3) }
            let completion = try await client.post("/v1/completions", #"{"prompt":"Hello world"}"#)
            #expect(completion.status == .ok)
            let response = try await client.get("/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            let lines = Set(response.text.split(separator: "\n").map(String.init))
            let counters = [
                "sglang:num_requests_total", "sglang:num_aborted_requests_total", "sgl_router_request_errors_total",
                "sgl_router_retries_total", "radixserve_recovered_after_streaming_total", "sglang:prompt_tokens_total",
                "sglang:generation_tokens_total", "sglang:cached_tokens_total", "sgl_router_cache_hits_total",
                "sgl_router_cache_misses_total", "sgl_router_processed_requests_total",
            ]
            let gauges = [
                "sglang:cache_hit_rate", "sgl_router_active_workers", "sglang:num_running_reqs", "sgl_router_running_requests",
                "sglang:num_queue_reqs", "sglang:token_usage",
            ]
            let histograms = [
                "sglang:time_to_first_token_seconds", "sglang:inter_token_latency_seconds", "sglang:e2e_request_latency_seconds",
                "radixserve_router_decision_seconds",
            ]
            for (names, type) in [(counters, "counter"), (gauges, "gauge"), (histograms, "histogram")] {
                for name in names { #expect(lines.contains("# TYPE \(name) \(type)"), "\(name)") }
            }
            let id = worker.workerID
            let count = Served.generatedIDs.count
            for line in [
                "sglang:num_requests_total 1", "sglang:num_aborted_requests_total 0", "sgl_router_request_errors_total 0",
                "sglang:prompt_tokens_total 5", "sglang:generation_tokens_total \(count)", "sglang:cached_tokens_total 3",
                "sglang:cache_hit_rate 0.6", "sgl_router_cache_hits_total 1", "sgl_router_cache_misses_total 0", "sgl_router_processed_requests_total{worker=\"\(id)\"} 1",
                "sgl_router_active_workers 1.0", "sglang:num_running_reqs 0.0", "sgl_router_running_requests{worker=\"\(id)\"} 0.0",
                "sglang:time_to_first_token_seconds_count 1", "sglang:e2e_request_latency_seconds_count 1",
                "sglang:e2e_request_latency_seconds_bucket{le=\"+Inf\"} 1", "radixserve_router_decision_seconds_count 1",
            ] {
                #expect(lines.contains(line), "missing '\(line)' in:\n\(response.text)")
            }
        }
    }

    @Test func workersListsRegisteredWorkers() async throws {
        try await RouterHarness.run { harness, client in
            let empty = try await client.get("/workers")
            #expect((try empty.json()["workers"] as? [Any])?.isEmpty == true)
            let worker = try await harness.worker { _ in .hold }
            let response = try await client.get("/workers")
            #expect(response.status == .ok)
            let workers = try #require(try response.json()["workers"] as? [JSONObject])
            try #require(workers.count == 1)
            let status = workers[0]
            #expect(status["id"] as? Int == Int(worker.workerID))
            #expect(status["routable"] as? Bool == true && status["draining"] as? Bool == false)
            #expect(status["endpoint"] == nil || status["endpoint"] is NSNull, "it connected to the router")
            #expect(status["model"] as? String == "fake")
            #expect(status["tensor_parallel_size"] as? Int == 1 && status["max_model_len"] as? Int == 4096)
            #expect(status["total_pages"] as? Int == 1024 && status["free_pages"] as? Int == 1024)
            #expect(status["in_flight"] as? Int == 0)
            #expect(status["cache_events"] as? String == "unverified")
        }
    }

    /// `POST /workers` connects to a listening worker, which registers over that connection and
    /// then serves requests.
    @Test func addingAListeningWorkerConnectsAndServes() async throws {
        try await RouterHarness.run { harness, client in
            let worker = try harness.listeningWorker { _ in .generate([Served.generatedIDs]) }
            let response = try await client.post("/workers", #"{"endpoint":"\#(worker.endpoint)"}"#)
            #expect(response.status == .created, "\(response.text)")
            let status = try response.json()
            #expect(status["id"] as? Int == Int(worker.workerID))
            #expect(status["endpoint"] as? String == worker.endpoint)
            #expect(status["routable"] as? Bool == true)
            let listed = try await client.get("/workers").json()
            #expect(value(listed, "workers", 0, "endpoint") as? String == worker.endpoint)
            let completion = try await client.post("/v1/completions", #"{"prompt":"Hello world"}"#)
            #expect(value(try completion.json(), "choices", 0, "text") as? String == " The quick brown fox")
            #expect(worker.submits.count == 1)
        }
    }

    @Test func addingAWorkerAtABadEndpointIsAnError() async throws {
        try await RouterHarness.run { _, client in
            let scheme = try await client.post("/workers", #"{"endpoint":"http://127.0.0.1:5557"}"#)
            let message = try scheme.expectError(.badRequest, type: "invalid_request_error", param: "endpoint", code: nil)
            #expect(message.contains("tcp:// or ipc://"))
            let unreachable = try await client.post("/workers", #"{"endpoint":"tcp://127.0.0.1"}"#)
            try unreachable.expectError(.badGateway, type: "server_error", param: "endpoint", code: "worker_unreachable")
            let missing = try await client.post("/workers", #"{}"#)
            try missing.expectError(.badRequest, type: "invalid_request_error", param: "endpoint", code: "missing_required_parameter")
        }
    }

    @Test func removingWorkers() async throws {
        try await RouterHarness.run { harness, client in
            let worker = try await harness.worker { _ in .hold }
            let unknown = try await client.execute(uri: "/workers/999999", method: .delete)
            try unknown.expectError(.notFound, type: "not_found_error", param: "id", code: "worker_not_found")
            let notANumber = try await client.execute(uri: "/workers/first", method: .delete)
            try notANumber.expectError(.badRequest, type: "invalid_request_error", param: "id", code: nil)
            #expect(harness.coordinator.workers().count == 1)

            let series = "sgl_router_running_requests{worker=\"\(worker.workerID)\"}"
            #expect(try await client.get("/metrics").text.contains(series))
            let removed = try await client.execute(uri: "/workers/\(worker.workerID)", method: .delete)
            #expect(removed.status == .ok)
            #expect(try removed.json() as? [String: Int] == ["removed": Int(worker.workerID)])
            try await waitUntil("the worker is told it was removed") {
                worker.received.contains { message in
                    if case .refused(let reason) = message { return reason.contains("removed") }
                    return false
                }
            }
            #expect(try await client.get("/health").status == .serviceUnavailable)
            #expect(try await !client.get("/metrics").text.contains(series), "a removed worker keeps no per-worker gauge")
            let again = try await client.execute(uri: "/workers/\(worker.workerID)", method: .delete)
            try again.expectError(.notFound, type: "not_found_error", param: "id", code: "worker_not_found")
        }
    }

    @Test func flushCacheReachesEveryWorker() async throws {
        try await RouterHarness.run { harness, client in
            let none = try await client.post("/flush_cache", "")
            #expect(try none.json() as? [String: Int] == ["flushed_workers": 0])
            let first = try await harness.worker { _ in .hold }
            let second = try await harness.worker { _ in .hold }
            let response = try await client.post("/flush_cache", "")
            #expect(response.status == .ok)
            #expect(try response.json() as? [String: Int] == ["flushed_workers": 2])
            for worker in [first, second] {
                try await waitUntil("worker \(worker.workerID) got flush_cache") { worker.received.contains(.flushCache) }
            }
        }
    }
}
