import Foundation
import ServingTypes
import Testing

/// The `/workers` bodies the router writes and the client reads.
@Suite struct WorkerStatusTests {
    private static let status = WorkerStatus(
        id: 3, endpoint: nil, isRoutable: true, isDraining: false, incarnation: 42, model: "demo", tensorParallelSize: 2,
        maxModelLength: 4096, running: 1, waiting: 2, freePages: 900, evictablePages: 10, cachedPages: 40, totalPages: 1024,
        prefillTokensPerSecond: 1234.5, decodeTokensPerSecond: 56.25, inFlight: 3)

    @Test func encodesTheRoutersKeysWithoutAnAbsentEndpoint() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = String(decoding: try encoder.encode(WorkerList(workers: [Self.status])), as: UTF8.self)
        #expect(text == #"{"workers":[{"cache_events":"unverified","cached_pages":40,"decode_tokens_per_second":56.25,"draining":false,"#
            + #""evictable_pages":10,"free_pages":900,"id":3,"in_flight":3,"incarnation":42,"max_model_len":4096,"#
            + #""model":"demo","prefill_tokens_per_second":1234.5,"routable":true,"running":1,"#
            + #""tensor_parallel_size":2,"total_pages":1024,"waiting":2}]}"#)
    }

    @Test func roundTripsWithAnEndpoint() throws {
        var status = Self.status
        status.endpoint = "tcp://10.0.0.5:7000"
        let data = try JSONEncoder().encode(status)
        #expect(try JSONDecoder().decode(WorkerStatus.self, from: data) == status)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["endpoint"] as? String == "tcp://10.0.0.5:7000")
        #expect(object.count == 18)
    }

    @Test func aWorkerWithoutAFigureDoesNotDecode() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(WorkerStatus.self, from: Data(#"{"id":1,"routable":true}"#.utf8))
        }
    }
}
