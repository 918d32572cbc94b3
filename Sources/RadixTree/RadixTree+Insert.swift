// RadixServe: insertion into RadixTree.

/// The result of ``RadixTree/insert(_:now:makeValue:)``.
public struct RadixInsertion: Hashable, Sendable {
    /// Tokens of the key that the tree already held before the call (page-aligned).
    public var existingLength: Int
    /// Existing nodes covering `[0, existingLength)`, from the root's child downwards.
    public var existingPath: [RadixNodeID]
    /// The new leaf covering `[existingLength, key.count)`, or `nil` if the whole key existed.
    public var insertedNode: RadixNodeID?
    /// The node whose edge ends exactly at the end of the key (the root for an empty key).
    public var node: RadixNodeID
}

extension RadixTree {
    /// Inserts a page-aligned key, reusing the longest existing prefix and splitting the
    /// edge where the key diverges. The whole key's path is stamped with `now`.
    ///
    /// `makeValue` is called at most once, for the new leaf: it receives the page range of
    /// the key that the leaf covers and the value of the leaf's parent (`nil` for the root).
    ///
    /// - Precondition: `key.count` is a multiple of ``pageSize``.
    /// - Complexity: O(`key.count`).
    public mutating func insert(
        _ key: ArraySlice<Int32>,
        now: UInt64,
        makeValue: (_ pages: Range<Int>, _ parentValue: Value?) -> Value
    ) -> RadixInsertion {
        precondition(key.count % pageSize == 0, "insert key length \(key.count) is not a multiple of \(pageSize)")
        let existing = walk(key, now: now)
        guard existing.matchedLength < key.count else {
            return RadixInsertion(
                existingLength: existing.matchedLength,
                existingPath: existing.path,
                insertedNode: nil,
                node: existing.node
            )
        }
        let parent = existing.node.rawValue
        let edge = Array(key[(key.startIndex + existing.matchedLength)...])
        let value = makeValue(existing.matchedLength / pageSize..<key.count / pageSize, nodes[Int(parent)].value)
        let leaf = Node(
            key: edge,
            value: value,
            parent: parent,
            children: [:],
            depth: key.count,
            lastAccess: now,
            lockCount: 0,
            isLive: true
        )
        let leafID = allocateNode(leaf)
        nodes[Int(parent)].children[childKey(edge[...])] = leafID
        return RadixInsertion(
            existingLength: existing.matchedLength,
            existingPath: existing.path,
            insertedNode: RadixNodeID(rawValue: leafID),
            node: RadixNodeID(rawValue: leafID)
        )
    }
}
