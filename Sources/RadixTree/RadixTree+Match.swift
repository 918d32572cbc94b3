// RadixServe: prefix matching and edge splitting.

/// The result of ``RadixTree/match(_:now:)``.
public struct RadixMatch: Hashable, Sendable {
    /// Tokens of the query found in the tree; a multiple of the page size.
    public var matchedLength: Int
    /// The node whose edge ends exactly at `matchedLength` (the root when nothing matched).
    public var node: RadixNodeID
    /// The nodes from the root's child down to `node`; their edges cover `[0, matchedLength)`.
    public var path: [RadixNodeID]
}

extension RadixTree {
    /// The longest page-aligned prefix of `key` stored in the tree, without changing anything.
    ///
    /// Only whole pages of `key` are considered; a trailing partial page never matches.
    /// Complexity: O(`key.count`).
    public func prefixLength(of key: ArraySlice<Int32>) -> Int {
        let usable = key.count - key.count % pageSize
        var node: Int32 = 0
        var matched = 0
        while matched < usable {
            let start = key.startIndex + matched
            guard let child = nodes[Int(node)].children[key[start..<start + pageSize]] else { break }
            let edgePages = commonPages(nodes[Int(child)].key, key[start..<key.startIndex + usable])
            matched += edgePages * pageSize
            if edgePages * pageSize < nodes[Int(child)].key.count { break }
            node = child
        }
        return matched
    }

    /// Finds the longest page-aligned prefix of `key` in the tree, splitting the last edge
    /// if the match ends inside it, and stamps the matched path with `now`.
    ///
    /// After the call `result.node` ends exactly at `result.matchedLength`, so locking it
    /// pins exactly the matched pages. Only whole pages of `key` are considered.
    /// Complexity: O(`key.count`) plus one split.
    public mutating func match(_ key: ArraySlice<Int32>, now: UInt64) -> RadixMatch {
        let usable = key.count - key.count % pageSize
        return walk(key[key.startIndex..<key.startIndex + usable], now: now)
    }

    /// Shared by match and insert: walks whole pages of `key`, splitting on a partial edge.
    mutating func walk(_ key: ArraySlice<Int32>, now: UInt64) -> RadixMatch {
        assert(key.count % pageSize == 0)
        var node: Int32 = 0
        var matched = 0
        var path: [RadixNodeID] = []
        while matched < key.count {
            let start = key.startIndex + matched
            guard var child = nodes[Int(node)].children[key[start..<start + pageSize]] else { break }
            let edgeLength = nodes[Int(child)].key.count
            let common = commonPages(nodes[Int(child)].key, key[start...]) * pageSize
            if common < edgeLength {
                child = split(child, atToken: common)
            }
            nodes[Int(child)].lastAccess = now
            path.append(RadixNodeID(rawValue: child))
            matched += common
            node = child
            if common < edgeLength { break }
        }
        return RadixMatch(matchedLength: matched, node: RadixNodeID(rawValue: node), path: path)
    }

    /// Number of leading whole pages shared by `edge` and `query` (at least 1 when called
    /// on a child found by its first page).
    func commonPages(_ edge: [Int32], _ query: ArraySlice<Int32>) -> Int {
        let limit = min(edge.count, query.count)
        var index = 0
        let base = query.startIndex
        while index < limit && edge[index] == query[base + index] {
            index += 1
        }
        return index / pageSize
    }

    /// Splits `child`'s edge after `offset` tokens and returns the new upper node.
    ///
    /// ```
    ///  parent ─[k0 ..< offset | offset ..< n]─ child
    ///  parent ─[k0 ..< offset]─ upper ─[offset ..< n]─ child      (child keeps its id)
    /// ```
    /// The upper node inherits the lock count and access time, since every lock and access
    /// that went through `child` also goes through it.
    mutating func split(_ child: Int32, atToken offset: Int) -> Int32 {
        let old = nodes[Int(child)]
        precondition(offset > 0 && offset < old.key.count && offset % pageSize == 0, "invalid split offset")
        let parts = old.value!.split(atPage: offset / pageSize)
        let lowerKey = Array(old.key[offset...])
        let upper = Node(
            key: Array(old.key[..<offset]),
            value: parts.prefix,
            parent: old.parent,
            children: [childKey(lowerKey[...]): child],
            depth: old.depth - lowerKey.count,
            lastAccess: old.lastAccess,
            lockCount: old.lockCount,
            isLive: true
        )
        // The split adds a node but no pages; allocateNode counts the upper node's pages,
        // which the lower node gives up below.
        let upperID = allocateNode(upper)
        pageCount -= offset / pageSize
        nodes[Int(child)].key = lowerKey
        nodes[Int(child)].value = parts.suffix
        nodes[Int(child)].parent = upperID
        nodes[Int(old.parent)].children[childKey(old.key[...])] = upperID
        return upperID
    }
}
