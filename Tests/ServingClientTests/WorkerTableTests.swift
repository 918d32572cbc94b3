import ServingClient
import ServingTypes
import Testing

/// `radixserve workers list`: the aligned table of `GET /workers`.
@Suite struct WorkerTableTests {
    private static func worker(
        id: UInt32, endpoint: String?, isRoutable: Bool = true, running: Int = 2, freePages: Int = 900,
        prefill: Double = 5321.7, incarnation: UInt64 = 0xbeef
    ) -> WorkerStatus {
        WorkerStatus(
            id: id, endpoint: endpoint, isRoutable: isRoutable, isDraining: false, incarnation: incarnation, model: "demo",
            tensorParallelSize: 1, maxModelLength: 4096, running: running, waiting: 1, freePages: freePages,
            evictablePages: 10, cachedPages: 40, totalPages: 1024, prefillTokensPerSecond: prefill,
            decodeTokensPerSecond: 80, inFlight: 3, cacheEvents: isRoutable ? "verified" : "untrusted")
    }

    @Test func alignsTextLeftAndNumbersRight() {
        let table = WorkerTable([
            Self.worker(id: 7, endpoint: "tcp://127.0.0.1:7001"),
            Self.worker(id: 12, endpoint: nil, isRoutable: false, running: 10, freePages: 1024, prefill: 0.4, incarnation: 1),
        ])
        #expect(table.rows[1] == ["12", "-", "demo", "1", "no", "10", "1", "3", "1024/1024", "40", "10", "0", "1", "untrusted"])
        #expect(table.text == """
            ID  ENDPOINT              MODEL  TP  ROUTABLE  RUNNING  WAITING  IN-FLIGHT  FREE/TOTAL PAGES  CACHED  EVICTABLE  PREFILL TOK/S  INCARNATION  CACHE EVENTS
            7   tcp://127.0.0.1:7001  demo    1  yes             2        1          3          900/1024      40         10           5322         beef  verified
            12  -                     demo    1  no             10        1          3         1024/1024      40         10              0            1  untrusted

            """)
    }

    @Test func anEmptyListSaysSo() {
        #expect(WorkerTable([]).text == "no workers\n")
    }
}
