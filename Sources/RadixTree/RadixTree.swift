// RadixServe: a page-aligned compressed radix tree over token ids.

/// A compressed radix tree keyed by token ids, whose edges are whole pages.
///
/// Every edge holds `k * pageSize` tokens (`k >= 1`) and is split only at multiples of
/// `pageSize`, so any matched prefix is page-aligned. Nodes carry a generic ``RadixTreeValue``
/// (page ids for the worker's prefix cache, worker sets for the router's index), a
/// last-access tick for LRU eviction and a lock count that pins a node and its ancestors.
///
/// ```
///  root ─[a b c d]─ n1 ─[e f]─ n2        pageSize = 2; n1 covers tokens [0, 4)
///                    └──[g h i j]─ n3    n3 covers tokens [4, 8), depth 8
/// ```
///
/// Storage is an array of node structs indexed by ``RadixNodeID`` with a free list of slots;
/// there is no class per node. Time is supplied by the caller (`now`), so several trees can
/// share one clock.
///
/// Not thread-safe: a value type that its owner confines to one thread (the engine thread or
/// an actor). Complexity: match and insert are O(key length); leaf listing is O(node slots).
public struct RadixTree<Value: RadixTreeValue> {
    /// Tokens per page; every edge length and every split point is a multiple of it.
    public let pageSize: Int

    @usableFromInline
    var nodes: [Node]

    @usableFromInline
    var freeSlots: [Int32] = []

    /// Pages stored on all edges.
    public internal(set) var pageCount: Int = 0

    /// Pages on edges whose lock count is positive.
    public internal(set) var lockedPageCount: Int = 0

    /// Live nodes, excluding the root.
    public internal(set) var nodeCount: Int = 0

    /// Creates an empty tree.
    ///
    /// - Precondition: `pageSize >= 1`.
    public init(pageSize: Int) {
        precondition(pageSize >= 1, "pageSize must be at least 1, got \(pageSize)")
        self.pageSize = pageSize
        var root = Node.free
        root.isLive = true
        self.nodes = [root]
    }

    /// Pages on unlocked edges; all of them can eventually be evicted leaf by leaf.
    public var unlockedPageCount: Int { pageCount - lockedPageCount }

    /// True when the tree holds nothing but the root.
    public var isEmpty: Bool { nodeCount == 0 }

    // MARK: - Node accessors

    /// The edge label of `node` (empty for the root). Precondition: `node` is alive.
    public func key(of node: RadixNodeID) -> [Int32] { self[node].key }

    /// The value of `node`; `nil` only for the root. Precondition: `node` is alive.
    public func value(of node: RadixNodeID) -> Value? { self[node].value }

    /// The parent of `node`, or `nil` for the root. Precondition: `node` is alive.
    public func parent(of node: RadixNodeID) -> RadixNodeID? {
        let parent = self[node].parent
        return parent < 0 ? nil : RadixNodeID(rawValue: parent)
    }

    /// The children of `node`, in unspecified order. Precondition: `node` is alive.
    public func children(of node: RadixNodeID) -> [RadixNodeID] {
        self[node].children.values.map { RadixNodeID(rawValue: $0) }
    }

    /// Tokens from the root to the end of `node`'s edge. Precondition: `node` is alive.
    public func depth(of node: RadixNodeID) -> Int { self[node].depth }

    /// Pages on `node`'s edge. Precondition: `node` is alive.
    public func pageCount(of node: RadixNodeID) -> Int { self[node].key.count / pageSize }

    /// The tick of the last match or insert through `node`. Precondition: `node` is alive.
    public func lastAccess(of node: RadixNodeID) -> UInt64 { self[node].lastAccess }

    /// Live locks on `node` or its descendants. Precondition: `node` is alive.
    public func lockCount(of node: RadixNodeID) -> Int { Int(self[node].lockCount) }

    /// True when `node` is a live non-root node without children.
    public func isLeaf(_ node: RadixNodeID) -> Bool {
        node != .root && isAlive(node) && self[node].children.isEmpty
    }

    /// True when `node` names a live slot.
    public func isAlive(_ node: RadixNodeID) -> Bool {
        node.rawValue >= 0 && Int(node.rawValue) < nodes.count && nodes[Int(node.rawValue)].isLive
    }

    /// Nodes from the root's child down to `node` (empty for the root). O(depth).
    public func path(to node: RadixNodeID) -> [RadixNodeID] {
        var path: [RadixNodeID] = []
        var current = node
        while current != .root {
            path.append(current)
            current = RadixNodeID(rawValue: self[current].parent)
        }
        path.reverse()
        return path
    }

    /// Mutates the value of a non-root node in place and returns the body's result.
    @discardableResult
    public mutating func updateValue<R>(of node: RadixNodeID, _ body: (inout Value) throws -> R) rethrows -> R {
        precondition(node != .root && isAlive(node), "updateValue on root or dead \(node)")
        return try body(&nodes[Int(node.rawValue)].value!)
    }

    /// Sets the last-access tick of `node` and all its ancestors.
    public mutating func touch(_ node: RadixNodeID, now: UInt64) {
        var current = node.rawValue
        while current > 0 {
            nodes[Int(current)].lastAccess = now
            current = nodes[Int(current)].parent
        }
    }

    // MARK: - Locking

    /// Pins `node` and its ancestors against removal. Locks nest; every lock needs one unlock.
    /// Locking the root is a no-op. Precondition: `node` is alive. O(depth).
    public mutating func lock(_ node: RadixNodeID) {
        precondition(isAlive(node), "lock on dead \(node)")
        var current = node.rawValue
        while current > 0 {
            let index = Int(current)
            if nodes[index].lockCount == 0 { lockedPageCount += nodes[index].key.count / pageSize }
            nodes[index].lockCount += 1
            current = nodes[index].parent
        }
    }

    /// Releases one ``lock(_:)`` of `node`. Precondition: `node` is alive and locked.
    public mutating func unlock(_ node: RadixNodeID) {
        precondition(isAlive(node), "unlock on dead \(node)")
        var current = node.rawValue
        while current > 0 {
            let index = Int(current)
            precondition(nodes[index].lockCount > 0, "unlock of unlocked node#\(current)")
            nodes[index].lockCount -= 1
            if nodes[index].lockCount == 0 { lockedPageCount -= nodes[index].key.count / pageSize }
            current = nodes[index].parent
        }
    }

    /// Removes every node. Precondition: nothing is locked.
    public mutating func removeAll() {
        precondition(lockedPageCount == 0, "removeAll with locked pages")
        self = RadixTree(pageSize: pageSize)
    }

    // MARK: - Storage helpers

    @usableFromInline
    subscript(node: RadixNodeID) -> Node {
        let node = nodes[Int(node.rawValue)]
        precondition(node.isLive, "access to a dead node")
        return node
    }

    /// A compact copy of the first page of `tokens`, used as a child key.
    func childKey(_ tokens: ArraySlice<Int32>) -> ArraySlice<Int32> {
        ArraySlice(Array(tokens.prefix(pageSize)))
    }

    mutating func allocateNode(_ node: Node) -> Int32 {
        nodeCount += 1
        pageCount += node.key.count / pageSize
        if let slot = freeSlots.popLast() {
            nodes[Int(slot)] = node
            return slot
        }
        nodes.append(node)
        return Int32(nodes.count - 1)
    }
}

extension RadixTree: Sendable where Value: Sendable {}
