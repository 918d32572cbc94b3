// RadixServe: chained 64-bit page hashes shared by workers and the router.

/// Chained hashes of page-sized token blocks, the keys of the router's global prefix index.
///
/// Definition (reproducible in any language with an XXH64 implementation):
///
/// ```
/// P      = pageSize; tokens are Int32, serialised as 4-byte two's-complement little-endian
/// h[0]   = XXH64(LE64(namespace) ‖ LE32(t[0]) ‖ … ‖ LE32(t[P-1]),         seed: seed)
/// h[i]   = XXH64(LE32(t[i·P]) ‖ … ‖ LE32(t[i·P+P-1]),                   seed: h[i-1])
/// ```
///
/// XXH64 is the standard xxHash 64-bit algorithm (https://github.com/Cyan4973/xxHash,
/// `doc/xxhash_spec.md`), implemented in ``XXH64``. `seed` is agreed in the worker/router
/// handshake. A hash therefore names a page *and its whole prefix* in one namespace:
/// equal hashes mean equal token prefixes (up to 64-bit collisions).
public struct PageHasher: Hashable, Sendable {
    /// The chain seed used for the first page.
    public var seed: UInt64
    /// Tokens per page.
    public var pageSize: Int

    /// Creates a hasher. Precondition: `pageSize >= 1`.
    public init(seed: UInt64, pageSize: Int) {
        precondition(pageSize >= 1, "pageSize must be at least 1")
        self.seed = seed
        self.pageSize = pageSize
    }

    /// The hash of the first page of a namespace. Precondition: `page.count == pageSize`.
    public func firstPageHash(_ page: ArraySlice<Int32>, namespace: UInt64) -> UInt64 {
        precondition(page.count == pageSize, "page must hold exactly pageSize tokens")
        let byteCount = 8 + 4 * page.count
        return withUnsafeTemporaryAllocation(byteCount: byteCount, alignment: 8) { buffer in
            buffer.storeBytes(of: namespace.littleEndian, toByteOffset: 0, as: UInt64.self)
            Self.store(page, into: buffer, at: 8)
            return XXH64.hash(UnsafeRawBufferPointer(buffer), seed: seed)
        }
    }

    /// The hash of a page following a page whose hash is `parent`.
    /// Precondition: `page.count == pageSize`.
    public func pageHash(_ page: ArraySlice<Int32>, parent: UInt64) -> UInt64 {
        precondition(page.count == pageSize, "page must hold exactly pageSize tokens")
        return withUnsafeTemporaryAllocation(byteCount: 4 * page.count, alignment: 8) { buffer in
            Self.store(page, into: buffer, at: 0)
            return XXH64.hash(UnsafeRawBufferPointer(buffer), seed: parent)
        }
    }

    /// Hashes every whole page of `tokens`, continuing the chain after `parent` (or starting
    /// a new chain in `namespace` when `parent` is `nil`). A trailing partial page is ignored.
    public func chain(_ tokens: ArraySlice<Int32>, namespace: UInt64, parent: UInt64? = nil) -> [UInt64] {
        let pages = tokens.count / pageSize
        var hashes: [UInt64] = []
        hashes.reserveCapacity(pages)
        var previous = parent
        for index in 0..<pages {
            let start = tokens.startIndex + index * pageSize
            let page = tokens[start..<start + pageSize]
            let hash = previous.map { pageHash(page, parent: $0) } ?? firstPageHash(page, namespace: namespace)
            hashes.append(hash)
            previous = hash
        }
        return hashes
    }

    private static func store(_ page: ArraySlice<Int32>, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        var byteOffset = offset
        for token in page {
            buffer.storeBytes(of: UInt32(bitPattern: token).littleEndian, toByteOffset: byteOffset, as: UInt32.self)
            byteOffset += 4
        }
    }
}
