// RadixServe: the fixed pool of KV-cache pages.
// Allocation shape mirrors nano-vllm engine/block_manager.py (free list + ref counts).

import RadixTree

/// A fixed set of KV-cache pages with a free list and per-page reference counts.
///
/// A page is `pageSize` token slots in every layer; where those slots live in memory is
/// the compute side's business. This type only hands out page ids `0 ..< pageCount`.
///
/// Every page is in exactly one of three states:
/// - **free**: on the free list, reference count 0;
/// - **cached**: owned by the prefix cache (``isCached(_:)``), reference count >= 1;
/// - **in use**: owned by one or more requests, reference count >= 1, not cached.
///
/// `freePageCount + cachedPageCount + inUsePageCount == pageCount` always holds.
/// Ownership moves into the cache with ``adoptIntoCache(_:)`` and out with
/// ``releaseFromCache(_:)``; only the prefix cache calls those two.
///
/// Not thread-safe: a value type confined to the engine thread.
public struct PagePool {
    /// Total number of pages.
    public let pageCount: Int

    @usableFromInline
    var freeList: [Int32]

    @usableFromInline
    var refCounts: [Int32]

    @usableFromInline
    var cachedFlags: [Bool]

    /// Pages owned by the prefix cache.
    public private(set) var cachedPageCount: Int = 0

    /// Creates a pool of `pageCount` free pages. Pages are handed out lowest id first.
    /// Precondition: `0 <= pageCount <= Int32.max`.
    public init(pageCount: Int) {
        precondition(pageCount >= 0 && pageCount <= Int(Int32.max), "invalid page count \(pageCount)")
        self.pageCount = pageCount
        self.freeList = (0..<Int32(pageCount)).reversed()
        self.refCounts = [Int32](repeating: 0, count: pageCount)
        self.cachedFlags = [Bool](repeating: false, count: pageCount)
    }

    /// Pages on the free list.
    @inlinable
    public var freePageCount: Int { freeList.count }

    /// Pages owned by requests and not by the cache.
    @inlinable
    public var inUsePageCount: Int { pageCount - freeList.count - cachedPageCount }

    /// True when `count` pages can be allocated right now (without evicting anything).
    @inlinable
    public func canAllocate(_ count: Int) -> Bool { count <= freeList.count }

    /// Takes `count` pages off the free list with reference count 1, or returns `nil`
    /// (allocating nothing) when fewer than `count` are free. The caller owns the result.
    /// Precondition: `count >= 0`. O(count).
    public mutating func allocate(_ count: Int) -> [Int32]? {
        precondition(count >= 0, "negative allocation")
        guard count <= freeList.count else { return nil }
        var pages: [Int32] = []
        pages.reserveCapacity(count)
        for _ in 0..<count {
            let page = freeList.removeLast()
            refCounts[Int(page)] = 1
            pages.append(page)
        }
        return pages
    }

    /// Takes one page off the free list with reference count 1, or returns `nil` when none is
    /// free. Allocates nothing on the heap (a decode step grows a page table through this).
    public mutating func allocateOne() -> Int32? {
        guard let page = freeList.popLast() else { return nil }
        refCounts[Int(page)] = 1
        return page
    }

    /// Adds one reference to each page (for sharing a page between owners).
    /// Precondition: every page is allocated.
    public mutating func retain(_ pages: some Sequence<Int32>) {
        for page in pages {
            precondition(refCounts[Int(page)] > 0, "retain of free page \(page)")
            refCounts[Int(page)] += 1
        }
    }

    /// Drops one reference to each page; a page whose count reaches zero returns to the
    /// free list. Precondition: every page is allocated, and a cached page keeps at least
    /// the cache's own reference (the cache lets go with ``releaseFromCache(_:)``).
    public mutating func free(_ pages: some Sequence<Int32>) {
        for page in pages {
            let index = Int(page)
            precondition(refCounts[index] > 0, "double free of page \(page)")
            precondition(!cachedFlags[index] || refCounts[index] > 1, "free of a cache-owned page \(page)")
            refCounts[index] -= 1
            if refCounts[index] == 0 { freeList.append(page) }
        }
    }

    /// Marks pages as owned by the prefix cache; the caller's reference becomes the cache's.
    /// Precondition: every page is allocated and not already cached.
    public mutating func adoptIntoCache(_ pages: some Sequence<Int32>) {
        for page in pages {
            precondition(refCounts[Int(page)] > 0 && !cachedFlags[Int(page)], "cannot adopt page \(page)")
            cachedFlags[Int(page)] = true
            cachedPageCount += 1
        }
    }

    /// Drops the cache's reference to each page (freeing pages nobody else holds).
    /// Precondition: every page is cached.
    public mutating func releaseFromCache(_ pages: some Sequence<Int32>) {
        for page in pages {
            precondition(cachedFlags[Int(page)], "page \(page) is not cached")
            cachedFlags[Int(page)] = false
            cachedPageCount -= 1
            refCounts[Int(page)] -= 1
            if refCounts[Int(page)] == 0 { freeList.append(page) }
        }
    }

    /// The reference count of `page` (0 when free).
    public func refCount(of page: Int32) -> Int { Int(refCounts[Int(page)]) }

    /// True when the prefix cache owns `page`.
    public func isCached(_ page: Int32) -> Bool { cachedFlags[Int(page)] }

    /// True when `page` is on the free list.
    public func isFree(_ page: Int32) -> Bool { refCounts[Int(page)] == 0 }

    /// Number of pages that fit in a byte budget, counting K and V for every layer:
    /// `budgetBytes / (2 · layerCount · kvHeadCount · headDim · pageSize · bytesPerElement)`.
    /// Preconditions: every size is positive and `budgetBytes >= 0`.
    public static func pageCount(
        budgetBytes: Int,
        layerCount: Int,
        kvHeadCount: Int,
        headDim: Int,
        pageSize: Int,
        bytesPerElement: Int
    ) -> Int {
        precondition(budgetBytes >= 0, "negative budget")
        precondition(layerCount > 0 && kvHeadCount > 0 && headDim > 0 && pageSize > 0 && bytesPerElement > 0)
        let bytesPerPage = 2 * layerCount * kvHeadCount * headDim * pageSize * bytesPerElement
        return min(budgetBytes / bytesPerPage, Int(Int32.max))
    }

    /// Verifies free-list and reference-count invariants. O(pageCount).
    public func checkIntegrity() throws(IntegrityViolation) {
        var onFreeList = [Bool](repeating: false, count: pageCount)
        for page in freeList {
            guard page >= 0, Int(page) < pageCount, !onFreeList[Int(page)] else {
                throw IntegrityViolation("page \(page) listed twice or out of range in the free list")
            }
            onFreeList[Int(page)] = true
        }
        var cached = 0
        var inUse = 0
        for page in 0..<pageCount {
            let isFreePage = onFreeList[page]
            guard isFreePage == (refCounts[page] == 0), refCounts[page] >= 0 else {
                throw IntegrityViolation("page \(page): ref count \(refCounts[page]) but free-listed \(isFreePage)")
            }
            if cachedFlags[page] {
                guard !isFreePage else { throw IntegrityViolation("page \(page) is both free and cached") }
                cached += 1
            } else if !isFreePage {
                inUse += 1
            }
        }
        guard cached == cachedPageCount, freeList.count + cached + inUse == pageCount else {
            throw IntegrityViolation(
                "free \(freeList.count) + cached \(cached)/\(cachedPageCount) + inUse \(inUse) != \(pageCount)"
            )
        }
    }
}

extension PagePool: Sendable {}
