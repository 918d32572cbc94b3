// RadixServe fuzzing: tokenizer.json.

import Foundation
import FuzzSupport
import Tokenizers

private let directory = ScratchDirectory(name: "tokenizer")

/// Fixed text through every stage a tokenizer builds: words, spaces, digits, punctuation,
/// accents, CJK, an emoji, bytes that are not in a small vocabulary, and a special token's spelling.
private let sampleTexts = ["Hello world! 123 naïve café", "  多言語\t\n<|endoftext|><s> 🦙 x\u{0301}"]

/// Loads the input as the `tokenizer.json` of a checkpoint directory (the only file there), then
/// encodes and decodes fixed text with it and decodes every id it can name: a loaded tokenizer
/// must never trap on any text or id, and hands out ids in `0...Int32.max` only.
func fuzzTokenizer(_ bytes: UnsafeRawBufferPointer) {
    directory.write(bytes, to: "tokenizer.json")
    guard let tokenizer = try? AutoTokenizer.load(directory: directory.url) else { return }
    for text in sampleTexts {
        let ids = tokenizer.encode(text, addSpecialTokens: true)
        // The router narrows prompt ids to Int32 (ServedModel.tokens(of:)).
        fuzzCheck(ids.allSatisfy { Int32(exactly: $0) != nil && $0 >= 0 }, "token id outside 0...Int32.max: \(ids)")
        _ = tokenizer.decode(ids, skipSpecialTokens: false)
        _ = tokenizer.decode(ids, skipSpecialTokens: true)
    }
    let probe = [-1, 0, 1, tokenizer.vocabularySize - 1, tokenizer.vocabularySize, Int(Int32.max)]
    _ = tokenizer.decode(probe, skipSpecialTokens: false)
    for id in probe { _ = tokenizer.tokenString(for: id) }
}

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzTokenizer(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("FuzzTokenizer_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc: argc, argv: argv, testOneInput)
}
