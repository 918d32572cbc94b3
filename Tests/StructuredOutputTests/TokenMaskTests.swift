// Token-level views: token bytes of two tokenizer families, and masks that agree with the DFA.

import Foundation
import ServingTypes
import StructuredOutput
import Testing
import Tokenizers

@Suite struct TokenMaskTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("tokenizers")

    static func tokenizer(_ name: String) throws -> any Tokenizer {
        try AutoTokenizer.load(directory: fixtures.appendingPathComponent(name))
    }

    @Test func specialTokensAreNeverAllowed() throws {
        let tokenizer = try Self.tokenizer("gpt2-style")
        let vocabulary = TokenVocabulary(tokenizer: tokenizer)
        let constraint = try StructuredOutputs.compile(.regex(".*"), vocabulary: vocabulary)
        let mask = constraint.allowedTokens(constraint.initialState)
        for id in tokenizer.specialTokenIDs { #expect(!mask.contains(id)) }
        #expect(mask.count > vocabulary.size / 2)
    }

    /// Every token in a mask advances; every token outside it does not.
    @Test(arguments: ["gpt2-style", "metaspace-style"])
    func masksAgreeWithAdvance(name: String) throws {
        let vocabulary = TokenVocabulary(tokenizer: try Self.tokenizer(name), size: 900)
        let schema = #"{"type": "object", "properties": {"name": {"type": "string"}, "n": {"type": "integer", "minimum": 0, "maximum": 99}}, "required": ["name", "n"]}"#
        let constraint = try StructuredOutputs.compile(.jsonSchema(schema), vocabulary: vocabulary)
        var state = constraint.initialState
        var random = SystemRandomNumberGenerator()
        var output: [UInt8] = []
        for _ in 0..<60 {
            let mask = constraint.allowedTokens(state)
            for id in 0..<vocabulary.size {
                #expect(mask.contains(id) == (constraint.advance(state, token: Int32(id)) != nil), "\(name) token \(id)")
            }
            if mask.isEmpty { break }
            let allowed = (0..<vocabulary.size).filter(mask.contains)
            let token = allowed.randomElement(using: &random)!
            output += vocabulary.bytes(of: token)
            state = try #require(constraint.advance(state, token: Int32(token)))
            if constraint.isAccepting(state) { break }
        }
        if constraint.isAccepting(state) {
            #expect(try StructuredOutputs.matches(.jsonSchema(schema), String(decoding: output, as: UTF8.self)))
        }
    }

    @Test func randomWalksEndInMatches() throws {
        let vocabulary = TokenVocabulary(tokenizer: try Self.tokenizer("gpt2-style"))
        let regex = #"(cat|dog|bird)s? [0-9]{1,3}!"#
        let constraint = try StructuredOutputs.compile(.regex(regex), vocabulary: vocabulary)
        var random = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            var state = constraint.initialState
            var output: [UInt8] = []
            while !constraint.mustEnd(state) {
                let mask = constraint.allowedTokens(state)
                let token = (0..<vocabulary.size).filter(mask.contains).randomElement(using: &random)!
                output += vocabulary.bytes(of: token)
                state = try #require(constraint.advance(state, token: Int32(token)))
            }
            let text = String(decoding: output, as: UTF8.self)
            #expect(try StructuredOutputs.matches(.regex(regex), text), "\(text)")
            #expect(constraint.isAccepting(state) && !constraint.hasOutgoingByte(state))
        }
    }

    @Test func cacheCompilesOncePerConstraintAndEvictsLeastRecentlyUsed() throws {
        let cache = ConstraintCache(vocabulary: TokenVocabulary(tokenBytes: [[0x61], [0x62], nil]), capacity: 2)
        let first = try cache.constraint(for: .regex("a+"))
        #expect(try cache.constraint(for: .regex("a+")) === first)
        _ = try cache.constraint(for: .regex("b"))
        _ = try cache.constraint(for: .regex("a+"))
        _ = try cache.constraint(for: .regex("ab"))
        #expect(cache.compilationCount == 3)
        #expect(try cache.constraint(for: .regex("a+")) === first)
        #expect(throws: ConstraintError.self) { try cache.constraint(for: .regex("(?=x)")) }
        let mask = first.allowedTokens(first.initialState)
        #expect(mask.contains(0) && !mask.contains(1) && !mask.contains(2))
    }
}
