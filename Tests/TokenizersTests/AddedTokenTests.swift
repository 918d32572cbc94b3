// Added and special tokens: recognition in text, flags, and ids exposed by the protocol.

import Foundation
import Testing
import Tokenizers

@Suite struct AddedTokenTests {
    // MARK: - Fixture special tokens

    @Test func llama3SpecialTokensInTextAreRecognized() throws {
        let tokenizer = try Fixtures.tokenizer("llama3-style")
        let start = try #require(tokenizer.tokenID(for: "<|start_header_id|>"))
        let end = try #require(tokenizer.tokenID(for: "<|end_header_id|>"))
        let eot = try #require(tokenizer.tokenID(for: "<|eot_id|>"))
        let ids = tokenizer.encode("<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>", addSpecialTokens: false)
        #expect(ids.first == start)
        #expect(ids.contains(end))
        #expect(ids.last == eot)
        #expect(tokenizer.specialTokenIDs.isSuperset(of: [start, end, eot]))
        #expect(tokenizer.decode(ids, skipSpecialTokens: true) == "user\n\nhi")
    }

    @Test func llama3ExposesBOSAndEOS() throws {
        let tokenizer = try Fixtures.tokenizer("llama3-style")
        let bos = try #require(tokenizer.bosTokenID)
        #expect(tokenizer.tokenString(for: bos) == "<|begin_of_text|>")
        #expect(tokenizer.encode("hi").first == bos)
        #expect(tokenizer.encode("hi", addSpecialTokens: false).first != bos)
        #expect(!tokenizer.eosTokenIDs.isEmpty)
        for id in tokenizer.eosTokenIDs { #expect(tokenizer.specialTokenIDs.contains(id)) }
    }

    @Test func qwen2NonSpecialAddedTokenIsKeptWhenSkipping() throws {
        let tokenizer = try Fixtures.tokenizer("qwen2-style")
        let toolCall = try #require(tokenizer.tokenID(for: "<tool_call>"))
        #expect(!tokenizer.specialTokenIDs.contains(toolCall))
        let ids = tokenizer.encode("<|im_start|><tool_call>x", addSpecialTokens: true)
        let imStart = try #require(tokenizer.tokenID(for: "<|im_start|>"))
        #expect(Array(ids.prefix(2)) == [imStart, toolCall])
        #expect(tokenizer.decode(ids, skipSpecialTokens: true) == "<tool_call>x")
        #expect(tokenizer.bosTokenID == nil || tokenizer.encode("x").first != tokenizer.bosTokenID)
    }

    @Test(arguments: Fixtures.names)
    func tokenStringAndIDRoundTrip(_ name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        for id in 0..<tokenizer.vocabularySize {
            let token = try #require(tokenizer.tokenString(for: id))
            #expect(tokenizer.tokenID(for: token) == id)
        }
        #expect(tokenizer.tokenString(for: -1) == nil)
        #expect(tokenizer.tokenString(for: tokenizer.vocabularySize + 10) == nil)
        #expect(tokenizer.decode([tokenizer.vocabularySize + 10]) == "")
    }

    // MARK: - Flags

    /// A tiny tokenizer with lstrip/rstrip/single_word/normalized added tokens; expected ids
    /// come from the Python `tokenizers` library.
    static let flagsJSON = #"""
        {"version":"1.0","truncation":null,"padding":null,"added_tokens":[
        {"id":7,"content":"<L>","single_word":false,"lstrip":true,"rstrip":false,"normalized":false,"special":true},
        {"id":8,"content":"<R>","single_word":false,"lstrip":false,"rstrip":true,"normalized":false,"special":true},
        {"id":9,"content":"cab","single_word":true,"lstrip":false,"rstrip":false,"normalized":true,"special":false},
        {"id":10,"content":"BB","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":false},
        {"id":11,"content":"XY","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":false}],
        "normalizer":{"type":"Lowercase"},
        "pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},
        "post_processor":null,"decoder":null,
        "model":{"type":"BPE","dropout":null,"unk_token":"<unk>","continuing_subword_prefix":null,
        "end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"ignore_merges":false,
        "vocab":{"<unk>":0,"a":1,"b":2,"c":3,"▁":4,"▁a":5,"ab":6},"merges":[["▁","a"],["a","b"]]}}
        """#

    @Test(arguments: [
        ("a <L> b", [5, 7, 4, 2]),
        ("a<R>   b", [5, 8, 4, 2]),
        ("cab", [9]),
        ("acab b", [5, 3, 6, 4, 2]),
        ("a cab b", [5, 4, 9, 4, 2]),
        ("bb BB", [10, 4, 10]),
        ("xy XY", [4, 0, 0, 4, 11]),
        ("a  <L>  <R>  b", [5, 7, 4, 4, 8, 4, 2]),
        ("<R><L>", [8, 7]),
        ("ABAB", [5, 2, 6]),
    ])
    func addedTokenFlagsMatchReference(_ text: String, _ expected: [Int]) throws {
        let tokenizer = try BPETokenizer(tokenizerJSON: Data(Self.flagsJSON.utf8))
        #expect(tokenizer.encode(text) == expected)
    }
}
