import Foundation
import TestSupport

/// Hosts on one machine: Linux network namespaces, each with one veth link into a bridge in the
/// test's own namespace, addressed in a /24 of their own. Processes run in a host with
/// `ip netns exec`; ``setLink(_:up:)`` cuts and restores a host's link as a pulled cable would.
/// Everything is deleted on deinit. Needs root and iproute2 (``unavailableReason``).
final class NetworkLab: @unchecked Sendable {
    // @unchecked: immutable after init.
    /// Host names, in the order given; their addresses are `10.213.N.1`, `.2`, … in that order.
    let hosts: [String]
    /// The address of the test's own end of the bridge (`10.213.N.254`).
    let testAddress: String
    private let prefix: String
    private let subnet: String
    private let bridge: String

    static let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Why namespaces cannot be made here, or nil when they can.
    static let unavailableReason: String? = {
        guard getuid() == 0 else { return "needs root to create network namespaces (CI runs as root)" }
        guard ip != nil else { return "needs iproute2's `ip` (apt-get install iproute2)" }
        let probe = "rxs-probe-\(getpid())"
        do {
            try command(["netns", "add", probe])
            try command(["netns", "del", probe])
            return nil
        } catch {
            return "cannot create network namespaces here: \(error)"
        }
    }()

    init(hosts: [String]) throws {
        self.hosts = hosts
        let tag = getpid() % 100_000
        prefix = "rxs\(tag)"
        subnet = "10.213.\(tag % 250)"
        bridge = "rxsbr\(tag)"
        testAddress = "\(subnet).254"
        do {
            try Self.command(["link", "add", bridge, "type", "bridge"])
            try Self.command(["addr", "add", "\(testAddress)/24", "dev", bridge])
            try Self.command(["link", "set", bridge, "up"])
            for (index, host) in hosts.enumerated() {
                let namespace = self.namespace(host)
                try Self.command(["netns", "add", namespace])
                try Self.command(["link", "add", veth(index), "type", "veth", "peer", "name", "eth0", "netns", namespace])
                try Self.command(["link", "set", veth(index), "master", bridge, "up"])
                try Self.command(["-n", namespace, "addr", "add", "\(address(host))/24", "dev", "eth0"])
                try Self.command(["-n", namespace, "link", "set", "eth0", "up"])
                try Self.command(["-n", namespace, "link", "set", "lo", "up"])
            }
        } catch {
            remove()
            throw error
        }
    }

    deinit { remove() }

    /// `host`'s address.
    func address(_ host: String) -> String { "\(subnet).\(hosts.firstIndex(of: host)! + 1)" }

    /// Starts `radixserve arguments…` in `host`.
    func run(_ host: String, _ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(["netns", "exec", namespace(host), ProcessHarness.executable.path] + arguments, executable: URL(fileURLWithPath: Self.ip!))
    }

    /// Takes `host`'s link down (no frame passes either way) or brings it back.
    func setLink(_ host: String, up: Bool) throws {
        try Self.command(["link", "set", veth(hosts.firstIndex(of: host)!), up ? "up" : "down"])
    }

    private func namespace(_ host: String) -> String { "\(prefix)-\(host)" }
    private func veth(_ index: Int) -> String { "\(prefix)v\(index)" }

    private func remove() {
        for host in hosts { try? Self.command(["netns", "del", namespace(host)]) }
        try? Self.command(["link", "del", bridge])
    }

    /// Runs `ip arguments…`; throws with its message on failure.
    @discardableResult
    static func command(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ip!)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ClusterError("ip \(arguments.joined(separator: " ")) failed: \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return message
    }
}
