// Chunk boundaries of the streaming detokenizer.

import Testing
import Tokenizers

@Suite struct StreamingDetokenizerTests {
    /// Feeds `ids` one at a time; returns the chunks, the last one from `finish()`.
    private func chunks(_ tokenizer: any Tokenizer, _ ids: [Int], skip: Bool = false) -> [String] {
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: skip)
        return ids.map { detokenizer.append($0) } + [detokenizer.finish()]
    }

    @Test(arguments: Fixtures.names)
    func emojiSplitAcrossTokensIsEmittedWhole(_ name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        let text = "Emoji 😀👍🎉 done"
        let ids = tokenizer.encode(text, addSpecialTokens: false)
        let parts = chunks(tokenizer, ids)
        for part in parts { #expect(!part.unicodeScalars.contains("\u{FFFD}"), "\(name): \(parts)") }
        #expect(parts.contains { $0.unicodeScalars.contains("😀") })
        #expect(parts.joined().exactScalars == tokenizer.decode(ids).exactScalars)
    }

    @Test func leadingSpaceRuleMatchesFullDecode() throws {
        let tokenizer = try Fixtures.tokenizer("llama2-style")
        let ids = tokenizer.encode("Hello world")
        let parts = chunks(tokenizer, ids, skip: true)
        #expect(parts.joined() == "Hello world")
        #expect(parts.joined() == tokenizer.decode(ids, skipSpecialTokens: true))
        #expect(chunks(tokenizer, ids).joined() == tokenizer.decode(ids))
    }

    @Test func finishFlushesIncompleteBytes() throws {
        let tokenizer = try Fixtures.tokenizer("llama2-style")
        let byte = try #require(tokenizer.tokenID(for: "<0xF0>"))
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        #expect(detokenizer.append(byte) == "")
        #expect(detokenizer.finish() == tokenizer.decode([byte]))
    }
}
