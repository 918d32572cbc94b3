// The hand-coded scanners for the GPT-2 / Llama 3 / Qwen 2 regexes must agree with the
// general Swift `Regex` path, which is used for any other pattern.

import Foundation
import ServingTypes
import Testing
import TestSupport
import Tokenizers

@Suite struct PatternScannerTests {
    static let atoms: [String] = [
        "a", "Z", "q", "7", "42", "1234", " ", "  ", "\t", "\n", "\r\n", "\r", ".", ",", "!?", "'", "'s", "'S", "'ll",
        "'RE", "'ve", "'d", "'M", "'T", "é", "e\u{301}", "中", "한", "😀", "👍🏽", "\u{A0}", "\u{3000}", "\u{2028}",
        "\u{85}", "²", "١", "Ⅻ", "_", "-", "(", ")", "Hello", " world", "\u{FFFD}",
    ]

    static func randomTexts(count: Int) -> [String] {
        var generator = SeededRandom(seed: 42)
        return (0..<count).map { _ in
            let length = Int.random(in: 0...16, using: &generator)
            return (0..<length).map { _ in atoms.randomElement(using: &generator)! }.joined()
        }
    }

    /// The fixture's tokenizer.json with `pre_tokenizer` replaced. Byte-level vocabularies
    /// have no canonically equivalent keys, so a `JSONSerialization` round trip is exact.
    static func tokenizer(_ name: String, preTokenizer: Any) throws -> any Tokenizer {
        let url = Fixtures.directory(name).appendingPathComponent("tokenizer.json")
        var json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        json["pre_tokenizer"] = preTokenizer
        return try BPETokenizer(tokenizerJSON: JSONSerialization.data(withJSONObject: json))
    }

    /// A Split (Isolated) + ByteLevel pre-tokenizer. Wrapping `pattern` in `(?:…)` defeats the
    /// exact-source match and forces the Swift `Regex` path.
    static func regexPreTokenizer(_ pattern: String) -> Any {
        [
            "type": "Sequence",
            "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": "(?:" + pattern + ")"], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false],
            ],
        ]
    }

    static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    @Test(arguments: ["llama3-style", "qwen2-style"])
    func scannerAgreesWithRegex(_ name: String) throws {
        let scanner = try Fixtures.tokenizer(name)
        let pattern = name == "llama3-style" ? Self.llama3Pattern : Self.qwen2Pattern
        let regex = try Self.tokenizer(name, preTokenizer: Self.regexPreTokenizer(pattern))
        for text in Self.randomTexts(count: 400) {
            #expect(scanner.encode(text) == regex.encode(text), "\(text.debugDescription)")
        }
    }

    @Test func gpt2ScannerAgreesWithRegex() throws {
        let scanner = try Fixtures.tokenizer("gpt2-style")
        let pattern = Self.gpt2Pattern
        let regex = try Self.tokenizer("gpt2-style", preTokenizer: Self.regexPreTokenizer(pattern))
        for text in Self.randomTexts(count: 400) {
            #expect(scanner.encode(text) == regex.encode(text), "\(text.debugDescription)")
        }
    }
}
