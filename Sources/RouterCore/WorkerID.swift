// RadixServe: identity of a worker (one model replica) as the router sees it.

/// A worker's identity, stable across reconnects; restarts are told apart by an incarnation id.
package struct WorkerID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The numeric id assigned at registration.
    package var rawValue: UInt32

    /// Wraps a raw id.
    package init(_ rawValue: UInt32) { self.rawValue = rawValue }

    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    package var description: String { "worker-\(rawValue)" }
}
