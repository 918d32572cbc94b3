// Runs one closure per rank on dedicated OS threads (never the cooperative pool, which has
// only as many threads as cores and would deadlock ranks that block on each other).
import Dispatch
import Foundation
import Synchronization

final class ResultSlots<Value: Sendable>: Sendable {
    private let slots: Mutex<[Result<Value, any Error>?]>

    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

    func set(_ index: Int, _ result: Result<Value, any Error>) { slots.withLock { $0[index] = result } }
    var all: [Result<Value, any Error>] { slots.withLock { $0.map { $0! } } }
}

/// Runs `body(rank)` for every rank on its own thread and returns the results in rank order.
func runRanks<Value: Sendable>(
    _ count: Int, _ body: @escaping @Sendable (_ rank: Int) throws -> Value
) -> [Result<Value, any Error>] {
    let results = ResultSlots<Value>(count: count)
    let done = DispatchGroup()
    for rank in 0..<count {
        done.enter()
        let thread = Thread {
            results.set(rank, Result { try body(rank) })
            done.leave()
        }
        thread.start()
    }
    done.wait()
    return results.all
}

/// A unique `ipc://` path per call, so parallel tests never collide.
func uniqueIPCEndpoint() -> String {
    "ipc:///tmp/rxs-test-\(UUID().uuidString.prefix(13))"
}

/// A loopback TCP endpoint on a port that was free a moment ago.
func freeTCPEndpoint() -> String {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
            _ = bind(descriptor, raw, length)
            _ = getsockname(descriptor, raw, &length)
        }
    }
    return "tcp://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
}

extension Result {
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
