// Token bytes: what one token adds to decoded text (structured outputs build masks from them).

import Testing
import Tokenizers

@Suite struct TokenBytesTests {
    /// Concatenated token bytes reproduce the decoded text (modulo Metaspace's first-token space).
    @Test(arguments: ["gpt2-style", "metaspace-style", "llama2-style", "qwen2-style"])
    func tokenBytesSpellTheDecodedText(name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        for text in ["Hello, world!", "naïve café 日本 😀", "{\"a\": [1, 2]}\n\ttab", "  two  spaces"] {
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            var bytes: [UInt8] = []
            for id in ids { bytes += try #require(tokenizer.tokenBytes(for: id), "\(name) id \(id)") }
            let decoded = Array(tokenizer.decode(ids, skipSpecialTokens: true).utf8)
            // These prepend `▁` to the text and strip it from the first token when decoding.
            let prependsSpace = name == "metaspace-style" || name == "llama2-style"
            let expected = prependsSpace ? [0x20] + decoded : decoded
            #expect(bytes == expected, "\(name): \(text)")
        }
        #expect(tokenizer.tokenBytes(for: tokenizer.vocabularySize + 10) == nil)
    }

    @Test func byteFallbackTokensAreTheirByte() throws {
        let tokenizer = try Fixtures.tokenizer("llama2-style")
        let id = try #require(tokenizer.tokenID(for: "<0x0A>"))
        #expect(tokenizer.tokenBytes(for: id) == [0x0A])
        let space = try #require(tokenizer.tokenID(for: "▁"))
        #expect(tokenizer.tokenBytes(for: space) == [0x20])
    }
}
