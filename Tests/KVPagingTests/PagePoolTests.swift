import KVPaging
import Testing

@Suite struct PagePoolTests {
    @Test func allocatesLowestIDsFirstAndRefusesShortRequestsWhole() throws {
        var pool = PagePool(pageCount: 4)
        let first = pool.allocate(3)
        #expect(first == [0, 1, 2])
        #expect(!pool.canAllocate(2))
        let refused = pool.allocate(2)
        #expect(refused == nil)
        #expect(pool.freePageCount == 1, "a refused allocation takes nothing")
        #expect(pool.inUsePageCount == 3)
        try pool.checkIntegrity()
    }

    @Test func allocateOneTakesTheSamePageAllocateWouldAndNoneWhenFull() throws {
        var pool = PagePool(pageCount: 2)
        #expect(pool.allocateOne() == 0)
        #expect(pool.allocate(1) == [1])
        #expect(pool.allocateOne() == nil)
        #expect(pool.inUsePageCount == 2)
        pool.free([0])
        #expect(pool.allocateOne() == 0)
        try pool.checkIntegrity()
    }

    @Test func freeReturnsPagesAndZeroAllocationSucceeds() throws {
        var pool = PagePool(pageCount: 2)
        let pagesAllocation = pool.allocate(2)
        let pages = try #require(pagesAllocation)
        pool.free(pages)
        #expect(pool.freePageCount == 2)
        let none = pool.allocate(0)
        #expect(none == [])
        #expect(pool.isFree(0) && pool.isFree(1))
        try pool.checkIntegrity()
    }

    @Test func sharedPagesNeedEveryReferenceDropped() throws {
        var pool = PagePool(pageCount: 2)
        let pagesAllocation = pool.allocate(1)
        let pages = try #require(pagesAllocation)
        pool.retain(pages)
        #expect(pool.refCount(of: pages[0]) == 2)
        pool.free(pages)
        #expect(!pool.isFree(pages[0]))
        pool.free(pages)
        #expect(pool.isFree(pages[0]))
        try pool.checkIntegrity()
    }

    @Test func cacheOwnershipMovesBetweenCounts() throws {
        var pool = PagePool(pageCount: 3)
        let pagesAllocation = pool.allocate(2)
        let pages = try #require(pagesAllocation)
        pool.adoptIntoCache(pages)
        #expect(pool.cachedPageCount == 2)
        #expect(pool.inUsePageCount == 0)
        #expect(pool.freePageCount + pool.cachedPageCount + pool.inUsePageCount == pool.pageCount)
        pool.releaseFromCache(pages[..<1])
        #expect(pool.cachedPageCount == 1)
        #expect(pool.freePageCount == 2)
        try pool.checkIntegrity()
    }

    @Test func pageCountFromByteBudgetCountsKAndV() {
        // 2 (K,V) · 4 layers · 2 heads · 8 dims · 16 slots · 2 bytes = 4096 bytes per page.
        let count = PagePool.pageCount(
            budgetBytes: 4096 * 10 + 4095, layerCount: 4, kvHeadCount: 2, headDim: 8, pageSize: 16,
            bytesPerElement: 2)
        #expect(count == 10)
        #expect(
            PagePool.pageCount(
                budgetBytes: 100, layerCount: 1, kvHeadCount: 1, headDim: 64, pageSize: 16, bytesPerElement: 4) == 0)
    }
}
