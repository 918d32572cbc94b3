import Foundation
import Synchronization

/// A loopback TCP relay between workers and a router's worker port that keeps every byte it
/// forwards, to check what an observer on the wire could read. One thread, `poll(2)`.
final class TCPRelay: @unchecked Sendable {
    // @unchecked: `recorded` is a Mutex; `stopping` an atomic; the sockets belong to the thread.
    let port: Int
    private let listener: Int32
    private let target: Int
    private let recorded = Mutex<[UInt8]>([])
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    /// Listens on a free 127.0.0.1 port and forwards each connection to 127.0.0.1:`target`.
    init(target: Int) throws {
        self.target = target
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            close(fd)
            throw ClusterError("relay: bind/listen failed (errno \(errno))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in run() }.start()
    }

    /// Everything forwarded so far, both directions.
    var bytes: [UInt8] { recorded.withLock { $0 } }

    func stop() {
        if !stopping.exchange(true, ordering: .relaxed) { done.wait() }
    }

    deinit { stop() }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func run() {
        var pairs: [(Int32, Int32)] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !stopping.load(ordering: .relaxed) {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            for (a, b) in pairs { fds += [pollfd(fd: a, events: Int16(POLLIN), revents: 0), pollfd(fd: b, events: Int16(POLLIN), revents: 0)] }
            guard poll(&fds, nfds_t(fds.count), 50) > 0 else { continue }
            let polled = pairs.count  // a connection accepted below is read from on the next round
            if fds[0].revents & Int16(POLLIN) != 0 {
                let client = accept(listener, nil, nil)
                let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var address = Self.loopback(port: target)
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                if client >= 0 && connected == 0 { pairs.append((client, upstream)) } else { close(client); close(upstream) }
            }
            var closed: Set<Int> = []
            for (index, (a, b)) in pairs.prefix(polled).enumerated() {
                for (from, to, slot) in [(a, b, 1 + 2 * index), (b, a, 2 + 2 * index)] where fds[slot].revents != 0 {
                    let count = read(from, &buffer, buffer.count)
                    if count <= 0 { closed.insert(index); continue }
                    recorded.withLock { $0 += buffer[..<count] }
                    var offset = 0
                    while offset < count {
                        let written = buffer[offset..<count].withUnsafeBytes { write(to, $0.baseAddress, $0.count) }
                        if written <= 0 { closed.insert(index); break }
                        offset += written
                    }
                }
            }
            for index in closed.sorted(by: >) {
                close(pairs[index].0)
                close(pairs[index].1)
                pairs.remove(at: index)
            }
        }
        for (a, b) in pairs { close(a); close(b) }
        close(listener)
        done.signal()
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs anywhere in these bytes.
    func contains(bytes needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, count >= needle.count else { return false }
        return (0...(count - needle.count)).contains { self[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
