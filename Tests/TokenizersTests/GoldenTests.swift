// Parity with the Python `tokenizers` library on every fixture family.

import Testing
import Tokenizers

@Suite struct GoldenTests {
    @Test(arguments: Fixtures.names)
    func encodeMatchesReference(_ name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        for golden in try Fixtures.goldenCases(name) {
            #expect(tokenizer.encode(golden.text, addSpecialTokens: true) == golden.ids, "\(name): \(golden.text.debugDescription)")
            #expect(
                tokenizer.encode(golden.text, addSpecialTokens: false) == golden.ids_no_special,
                "\(name): \(golden.text.debugDescription)")
        }
    }

    @Test(arguments: Fixtures.names)
    func decodeMatchesReference(_ name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        for golden in try Fixtures.goldenCases(name) {
            #expect(
                tokenizer.decode(golden.ids, skipSpecialTokens: false).exactScalars == golden.decoded.exactScalars,
                "\(name): \(golden.text.debugDescription)")
            #expect(
                tokenizer.decode(golden.ids, skipSpecialTokens: true).exactScalars
                    == golden.decoded_skip_special.exactScalars,
                "\(name): \(golden.text.debugDescription)")
        }
    }

    @Test(arguments: Fixtures.names)
    func streamingConcatenationEqualsDecode(_ name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        for golden in try Fixtures.goldenCases(name) {
            for skip in [false, true] {
                var detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: skip)
                var chunks: [String] = []
                for id in golden.ids { chunks.append(detokenizer.append(id)) }
                chunks.append(detokenizer.finish())
                let expected = tokenizer.decode(golden.ids, skipSpecialTokens: skip)
                #expect(chunks.joined().exactScalars == expected.exactScalars, "\(name) skip=\(skip): \(golden.text.debugDescription)")
                for chunk in chunks.dropLast() {
                    #expect(!chunk.unicodeScalars.contains("\u{FFFD}") || expected.unicodeScalars.contains("\u{FFFD}"))
                }
            }
        }
    }
}
