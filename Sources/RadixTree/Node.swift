// RadixServe: node identifiers and node storage for RadixTree.

/// Identifies a node of a ``RadixTree``: an index into the tree's node array.
///
/// Ids are reused after a node is removed, so an id is only meaningful while the node is
/// alive. Holders that need an id to stay valid across other operations lock the node
/// (locked nodes are never removed). Splits keep the id on the *deeper* half, so an id that
/// names the end of a matched prefix keeps naming it.
public struct RadixNodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The index into the tree's node storage.
    public let rawValue: Int32

    /// Wraps a raw node index.
    @inlinable
    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The root node. It has an empty key, no value, and is never removed.
    public static let root = RadixNodeID(rawValue: 0)

    @inlinable
    public static func < (lhs: RadixNodeID, rhs: RadixNodeID) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    public var description: String { "node#\(rawValue)" }
}

extension RadixTree {
    /// Storage for one node. Nodes live in an array indexed by ``RadixNodeID``; no class per node.
    @usableFromInline
    struct Node {
        /// Edge label from the parent: a non-empty whole number of pages (empty for the root).
        var key: [Int32]
        /// Edge value; `nil` only for the root and for free slots.
        var value: Value?
        /// Parent index, or -1 for the root and for free slots.
        var parent: Int32
        /// Children keyed by the first page of their edge.
        var children: [ArraySlice<Int32>: Int32]
        /// Tokens from the root to the end of this edge.
        var depth: Int
        /// Logical time of the last match or insert that walked through this node.
        var lastAccess: UInt64
        /// Number of live locks on this node or any of its descendants.
        var lockCount: Int32
        /// False for slots on the free list.
        var isLive: Bool

        static var free: Node {
            Node(key: [], value: nil, parent: -1, children: [:], depth: 0, lastAccess: 0, lockCount: 0, isLive: false)
        }
    }
}

extension RadixTree.Node: Sendable where Value: Sendable {}
