import RouterCore
import Testing

@Suite struct CacheEventAuditTests {
    @Test func oneMatchingStoredHashVerifiesForGood() {
        var audit = CacheEventAudit()
        #expect(audit.dispatched(pageHashes: [1, 2, 3], pageZeroHeld: false) == nil)
        // Output pages first, then the prompt's page in the same batch: the batch is judged whole.
        #expect(audit.stored([70, 71, 72, 3]) == .verified)
        for _ in 0..<10 { audit.completed() }
        #expect(audit.stored(Array(100..<200)) == nil)
        #expect(audit.trust == .verified)
    }

    @Test func pageZeroAlreadyHeldVerifies() {
        var audit = CacheEventAudit()
        #expect(audit.dispatched(pageHashes: [9, 10], pageZeroHeld: true) == .verified)
    }

    @Test func noVerdictUntilEnoughPromptsCompletedAndPagesStored() {
        var audit = CacheEventAudit()
        for prompt in 0..<3 {
            _ = audit.dispatched(pageHashes: [UInt64(prompt * 10 + 1)], pageZeroHeld: false)
            audit.completed()
            #expect(audit.stored([UInt64(1000 + prompt)]) == nil)
        }
        _ = audit.dispatched(pageHashes: [41], pageZeroHeld: false)
        audit.completed()
        #expect(audit.stored([2000]) == nil, "4 prompts but only 4 stored pages")
        #expect(audit.stored([2001, 2002, 2003]) == nil, "7 pages")
        #expect(audit.stored([2004]) == .untrusted)
        #expect(audit.completedPrompts == 4 && audit.unmatchedStoredPages == 8)
        #expect(audit.stored([41]) == nil, "a verdict is final for the incarnation")
    }

    @Test func rememberedHashesAreBounded() {
        var audit = CacheEventAudit()
        let batch = Array(UInt64(1)...UInt64(CacheEventAudit.maxExpectedHashes))
        _ = audit.dispatched(pageHashes: batch, pageZeroHeld: false)
        _ = audit.dispatched(pageHashes: [UInt64.max], pageZeroHeld: false)
        #expect(audit.stored([1]) == nil, "older prompts were forgotten")
        #expect(audit.stored([UInt64.max]) == .verified)
    }
}
